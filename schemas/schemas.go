// Package schemas holds baton's Avro schemas (one .avsc file per topic value,
// embedded in the binary: the stages' outputs' here in avro/, each source
// system's in its folder, systems/<name>/) and the Go side of them: goavro codecs, the
// JSON-lines form users write, and the Confluent wire format through a schema
// registry.
//
// Schemas evolve under BACKWARD compatibility: a new version may add fields
// with defaults or drop fields, so a consumer on the new schema can still read
// every record written before it. The subject of a topic's value schema is
// "<topic>-value" (Confluent's TopicNameStrategy).
package schemas

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/linkedin/goavro/v2"

	"github.com/baton-pipeline/baton/systems"
)

//go:embed avro/*.avsc
var files embed.FS

// Schema is one parsed Avro schema: its text as registered, a goavro codec
// for binary encoding, and the type tree used to convert JSON input.
type Schema struct {
	// Name is the file's base name without extension, e.g. "carrier_event".
	Name string
	// FullName is the Avro full name of the record, e.g. io.baton.source.CarrierEvent.
	FullName string
	// Text is the schema as written (docs, defaults and logical types
	// kept): what is registered, so compatibility checks see the defaults.
	Text  string
	Codec *goavro.Codec
	root  *Type
}

// Root is the schema's top-level record type.
func (s *Schema) Root() *Type { return s.root }

// Parse builds a Schema from Avro schema text.
func Parse(name, text string) (*Schema, error) {
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	root, err := parseType(text)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return &Schema{Name: name, FullName: root.Name, Text: text, Codec: codec, root: root}, nil
}

// Load parses one embedded schema by name (e.g. "wms_event"): a source
// system's, from its folder (package systems), or one of the stages'
// outputs, from avro/.
func Load(name string) (*Schema, error) {
	for _, def := range systems.All {
		if def.SchemaName == name {
			return Parse(name, def.Schema)
		}
	}
	b, err := files.ReadFile("avro/" + name + ".avsc")
	if err != nil {
		return nil, fmt.Errorf("schema %s: not embedded: %w", name, err)
	}
	return Parse(name, string(b))
}

// MustLoad is Load for schemas known at compile time; it panics on a bad
// embedded file, which the package tests rule out.
func MustLoad(name string) *Schema {
	s, err := Load(name)
	if err != nil {
		panic(err)
	}
	return s
}

// Names lists the embedded schemas, sorted.
func Names() []string {
	entries, err := files.ReadDir("avro")
	if err != nil {
		panic(err) // embedded at compile time
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".avsc"))
	}
	for _, def := range systems.All {
		names = append(names, def.SchemaName)
	}
	sort.Strings(names)
	return names
}
