package unify

// HoldbacksKey is the changelog key under which earlier versions kept the
// normalize partitions' holdbacks (the oldest carrier scan each still held
// for its tracking link), which could hold the checks' clock back. Event
// time made them unnecessary: a held scan released late takes its place
// in its order's history and corrects what it changes (eventtime.go).
// State.Apply still accepts such records and ignores them.
const HoldbacksKey = "\x00holdbacks"
