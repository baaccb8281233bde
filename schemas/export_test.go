package schemas

// DecodePlainFast is DecodePlain's own reader, without the goavro
// fallback: ok false is where it hands a body to goavro.
func DecodePlainFast(s *Schema, body []byte) (v any, rest []byte, ok bool) {
	return decodePlain(s.root, body)
}
