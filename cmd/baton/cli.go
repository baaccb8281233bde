package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
)

// errUsage marks a command-line mistake: baton exits 2. A bare errUsage
// means the command already printed its usage; a usageError carries the
// message baton prints.
var errUsage = errors.New("usage error")

// usageError is a command-line mistake that names what was wrong (the
// flag and its value): baton prints it and exits 2, as flag parsing does.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

// flagErrorf is a usage error; the message starts with the flag's name.
func flagErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// parseArgs parses a command's flags and takes at most maxArgs positional
// arguments. -h passes flag.ErrHelp through (exit 0); any other mistake
// prints the usage and is errUsage (exit 2): an argument a command does
// not take is refused, never ignored.
func parseArgs(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > maxArgs {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n\n", fs.Arg(maxArgs))
		fs.Usage()
		return errUsage
	}
	return nil
}

// parseNoArgs parses a command's flags; no positional arguments are taken.
func parseNoArgs(fs *flag.FlagSet, args []string) error { return parseArgs(fs, args, 0) }

// logFlags are the log settings of the long-running commands.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", envOr("BATON_LOG_FORMAT", "text"), "log format on stderr: text (key=value) or json (one object a line, for log shippers) (env BATON_LOG_FORMAT)")
	fs.StringVar(&l.level, "log-level", envOr("BATON_LOG_LEVEL", "info"), "lowest level logged: debug, info, warn or error (env BATON_LOG_LEVEL)")
}

// logger builds the logger the flags ask for; a bad value is a usage
// error naming its flag.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, flagErrorf("--log-level %q: want debug, info, warn or error", l.level)
	}
	switch l.format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: readableAttr})), nil
	}
	return nil, flagErrorf("--log-format %q: want text or json", l.format)
}

// readableAttr prints partition assignments ({topic: [partitions]}) in
// text logs as "topic:0,1,2 other:3", sorted, instead of a Go map; JSON
// logs keep them as objects.
func readableAttr(_ []string, a slog.Attr) slog.Attr {
	m, ok := a.Value.Any().(map[string][]int32)
	if !ok {
		return a
	}
	topics := make([]string, 0, len(m))
	for t := range m {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	parts := make([]string, len(topics))
	for i, t := range topics {
		ps := append([]int32(nil), m[t]...)
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		nums := make([]string, len(ps))
		for j, p := range ps {
			nums[j] = strconv.Itoa(int(p))
		}
		parts[i] = t + ":" + strings.Join(nums, ",")
	}
	return slog.String(a.Key, strings.Join(parts, " "))
}

// parseLogged registers the log flags of a long-running command, parses
// args (no positional arguments) and returns the logger they ask for.
func parseLogged(fs *flag.FlagSet, args []string) (*slog.Logger, error) {
	var lf logFlags
	lf.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return nil, err
	}
	return lf.logger(os.Stderr)
}

// newLogger is the default logger (text, info), for commands without log
// flags.
func newLogger() *slog.Logger {
	l, _ := (&logFlags{format: "text", level: "info"}).logger(os.Stderr)
	return l
}
