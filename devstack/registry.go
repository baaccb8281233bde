package devstack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// DefaultRegistryAddr is where ServeRegistry listens when given no address,
// and where every baton command looks for the registry by default.
const DefaultRegistryAddr = "127.0.0.1:8081"

// registryFile is the registry's state inside its data directory.
const registryFile = "schemas.jsonl"

// maxBody bounds request bodies, as srfake does.
const maxBody = 1 << 20

// shutdownGrace is how long ServeRegistry lets requests in flight finish.
const shutdownGrace = 2 * time.Second

// Registry is a Confluent-compatible schema registry for development and
// tests. srfake serves the REST API; Registry adds the two things srfake
// lacks and baton depends on:
//
//   - compatibility enforcement: registering a schema, and the compatibility
//     endpoint, check Avro reader/writer compatibility (hamba/avro) at the
//     subject's level (else the global level): BACKWARD (the default),
//     FORWARD, FULL, their _TRANSITIVE forms, or NONE. An incompatible
//     registration is refused with 409 and registers nothing.
//   - persistence: every new subject version, with the ID it got, and every
//     accepted change of compatibility, mode or deletion is appended to
//     <dataDir>/schemas.jsonl and fsynced before the client hears of it, and
//     replayed on start. Records on the broker carry schema IDs, so a
//     restarted registry must give every subject version its old ID and
//     never hand an ID out twice.
//
// Only Avro schemas are accepted: there is no checker for the other types,
// and baton has none. Writes under /contexts/{ctx}/ are refused, as srfake
// would apply them past the checks and the log, and so are explicit IDs
// (IMPORT mode).
type Registry struct {
	fake    *srfake.Registry
	handler http.Handler
	path    string

	// mu serializes every change, so that check, change and log line are
	// one step and lines are in the order the changes were applied:
	// replay depends on that order.
	mu  sync.Mutex
	log *os.File
	// broken is set when a change was applied in memory but could not be
	// saved, or the registry was closed. Later changes are refused: saving
	// them would leave a gap that a restart would fill by reusing an ID.
	broken error
}

// Log operations (logEntry.Op).
const (
	opRegister = "register" // a new subject version, restored with its ID
	opRequest  = "request"  // an accepted request, replayed through srfake
)

// logEntry is one line of schemas.jsonl.
type logEntry struct {
	Op string `json:"op"`

	// For opRegister: the subject version, its ID and the schema (text,
	// type, references) as registered; schemaType is left out for AVRO,
	// as in Confluent's API.
	Subject string     `json:"subject,omitempty"`
	Version int        `json:"version,omitempty"`
	ID      int        `json:"id,omitempty"`
	Schema  *sr.Schema `json:"schema,omitempty"`

	// For opRequest: a request srfake accepted (PUT /config/{subject},
	// DELETE /subjects/{subject}, ...). Replaying it in order rebuilds
	// exactly the state it produced.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Body   string `json:"body,omitempty"`
}

// NewRegistry opens the registry kept in dataDir, creating the directory and
// its schemas.jsonl if missing and restoring every subject version under its
// original ID, version and compatibility level. A torn last line (a crash
// during an append, which was therefore never acknowledged) is dropped;
// any other unreadable line is an error. Close releases the file.
func NewRegistry(dataDir string) (*Registry, error) {
	if dataDir == "" {
		return nil, errors.New("schema registry: data dir is required")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("schema registry: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, registryFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	r := &Registry{fake: srfake.NewRegistry(), path: path, log: f}
	r.handler = r.routes()
	if err := r.replay(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("schema registry: load %s: %w", path, err)
	}
	return r, nil
}

// Handler returns the registry's HTTP API.
func (r *Registry) Handler() http.Handler { return r.handler }

// Close closes the state file; later changes through Handler fail.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.log == nil {
		return nil
	}
	err := r.log.Close()
	r.log = nil
	r.broken = errors.New("registry is closed")
	return err
}

// ServeRegistry serves the registry kept in dataDir on addr
// (DefaultRegistryAddr when empty) until ctx is done, then stops accepting
// requests, lets those in flight finish (up to shutdownGrace) and returns nil. ready,
// if not nil, is called with the listening address once requests are served.
func ServeRegistry(ctx context.Context, addr, dataDir string, ready func(addr string)) error {
	if addr == "" {
		addr = DefaultRegistryAddr
	}
	reg, err := NewRegistry(dataDir)
	if err != nil {
		return err
	}
	defer reg.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("schema registry: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		return fmt.Errorf("schema registry: serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	// Shutdown also waits for connections a client opened but never
	// used (Go's transport dials spares), which only time out after 5 s.
	// Cutting them off is safe: a change in flight holds r.mu, so it is
	// saved before reg.Close, and is idempotent if the client retries.
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(stopCtx); errors.Is(err, context.DeadlineExceeded) {
		return srv.Close()
	} else if err != nil {
		return fmt.Errorf("schema registry: shut down on %s: %w", addr, err)
	}
	return nil
}

// routes puts the checks and the log in front of srfake's handler.
// (srfake's Intercept hooks cannot see srfake's answer, which the log needs.)
func (r *Registry) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /subjects/{subject}/versions", r.handleRegister)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", r.handleCheck)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", r.handleCheck)
	for _, pattern := range []string{
		"PUT /config", "PUT /config/{subject}", "DELETE /config/{subject}",
		"PUT /mode", "DELETE /mode", "PUT /mode/{subject}", "DELETE /mode/{subject}",
		"DELETE /subjects/{subject}", "DELETE /subjects/{subject}/versions/{version}",
	} {
		mux.HandleFunc(pattern, r.handleLogged)
	}
	mux.HandleFunc("/contexts/", r.handleContexts)
	mux.Handle("/", r.fake.Handler())
	return mux
}

// handleRegister serves POST /subjects/{subject}/versions: an identical
// schema already in the subject answers its ID; otherwise the schema must be
// compatible with the subject's history at its level, then srfake assigns the
// ID and version, which are saved before the client gets the answer.
func (r *Registry) handleRegister(w http.ResponseWriter, req *http.Request) {
	subject := req.PathValue("subject")
	body, in, ok := r.readSchema(w, req)
	if !ok {
		return
	}
	if in.ID != 0 || in.Version != 0 {
		writeError(w, http.StatusUnprocessableEntity, sr.ErrOperationNotPermitted.Code,
			"registering with an explicit id or version needs IMPORT mode, which baton's dev registry does not support")
		return
	}
	candidate, ok := r.parseCandidate(w, in.Schema)
	if !ok {
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.writable(w) {
		return
	}
	if existing, found, err := r.lookup(subject, body); err != nil {
		fail(w, err)
		return
	} else if found {
		respondJSON(w, http.StatusOK, map[string]int{"id": existing.ID})
		return
	}
	msgs, err := r.check(subject, "", candidate)
	if err != nil {
		fail(w, err)
		return
	}
	if len(msgs) > 0 {
		writeError(w, http.StatusConflict, sr.ErrIncompatibleSchema.Code,
			"Schema being registered is incompatible with an earlier schema for subject %q; details: %v", subject, msgs)
		return
	}
	res := r.call(http.MethodPost, subjectPath(subject)+"/versions", body)
	if res.Code != http.StatusOK {
		copyResponse(w, res)
		return
	}
	added, found, err := r.lookup(subject, body)
	if err == nil && !found {
		err = errors.New("not found")
	}
	if err != nil {
		r.broken = fmt.Errorf("subject %q: schema registered but its version could not be read back to save it: %v", subject, err)
		writeError(w, http.StatusInternalServerError, sr.ErrStoreError.Code, "%v", r.broken)
		return
	}
	if err := r.append(logEntry{Op: opRegister, Subject: subject, Version: added.Version, ID: added.ID, Schema: &in.Schema}); err != nil {
		fail(w, err)
		return
	}
	copyResponse(w, res)
}

// handleCheck serves POST /compatibility/subjects/{subject}/versions[/{version}]:
// against one version (a number or "latest") when given, else against the
// versions the subject's level names (the latest, or all when transitive).
// It answers 200 with is_compatible and, when false, the reasons.
func (r *Registry) handleCheck(w http.ResponseWriter, req *http.Request) {
	_, in, ok := r.readSchema(w, req)
	if !ok {
		return
	}
	candidate, ok := r.parseCandidate(w, in.Schema)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs, err := r.check(req.PathValue("subject"), req.PathValue("version"), candidate)
	if err != nil {
		fail(w, err)
		return
	}
	if msgs == nil {
		msgs = []string{}
	}
	respondJSON(w, http.StatusOK, sr.CheckCompatibilityResult{Is: len(msgs) == 0, Messages: msgs})
}

// handleLogged lets srfake serve a change it implements itself (compatibility
// and mode settings, deletes) and saves the request for replay if srfake
// accepted it.
func (r *Registry) handleLogged(w http.ResponseWriter, req *http.Request) {
	body, ok := readBody(w, req)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.writable(w) {
		return
	}
	path := req.URL.RequestURI()
	res := r.call(req.Method, path, body)
	if res.Code/100 == 2 {
		if err := r.append(logEntry{Op: opRequest, Method: req.Method, Path: path, Body: string(body)}); err != nil {
			fail(w, err)
			return
		}
	}
	copyResponse(w, res)
}

// handleContexts serves reads under /contexts/ and refuses writes: srfake
// strips the context prefix itself, so a write there would skip the checks
// and the log.
func (r *Registry) handleContexts(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		r.fake.Handler().ServeHTTP(w, req)
		return
	}
	writeError(w, http.StatusUnprocessableEntity, sr.ErrOperationNotPermitted.Code,
		"%s %s: schema contexts are not supported by baton's dev registry; use the default context", req.Method, req.URL.Path)
}

// writable reports whether changes are accepted, answering 500 if not.
func (r *Registry) writable(w http.ResponseWriter) bool {
	if r.broken == nil {
		return true
	}
	writeError(w, http.StatusInternalServerError, sr.ErrStoreError.Code,
		"schema registry refuses changes: %v; restart it", r.broken)
	return false
}

// append saves one change and fsyncs. On failure the change is in memory but
// not on disk, so the registry stops taking changes (see Registry.broken).
func (r *Registry) append(e logEntry) error {
	line, err := json.Marshal(e)
	if err == nil {
		_, err = r.log.Write(append(line, '\n'))
	}
	if err == nil {
		err = r.log.Sync()
	}
	if err != nil {
		r.broken = fmt.Errorf("change applied but not saved to %s: %w", r.path, err)
		return r.broken
	}
	return nil
}

// replay applies every saved change in order and drops a torn last line.
func (r *Registry) replay(f *os.File) error {
	in := bufio.NewReader(f)
	var good int64
	for n := 1; ; n++ {
		line, err := in.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				// The write crashed before its fsync returned, so no
				// client was told it succeeded.
				return f.Truncate(good)
			}
			return nil
		}
		if err != nil {
			return err
		}
		var e logEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := r.apply(e); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		good += int64(len(line))
	}
}

// apply restores one saved change.
func (r *Registry) apply(e logEntry) error {
	switch e.Op {
	case opRegister:
		if e.Schema == nil {
			return fmt.Errorf("register subject %q version %d: no schema", e.Subject, e.Version)
		}
		return r.seed(e.Subject, e.Version, e.ID, *e.Schema)
	case opRequest:
		if res := r.call(e.Method, e.Path, []byte(e.Body)); res.Code/100 != 2 {
			return fmt.Errorf("replay %s %s: HTTP %d: %s", e.Method, e.Path, res.Code, bytes.TrimSpace(res.Body.Bytes()))
		}
		return nil
	default:
		return fmt.Errorf("unknown op %q", e.Op)
	}
}

// seed restores a subject version under its saved ID and version. srfake's
// SeedSchema refuses an ID it already holds, which is legitimate here: an
// identical schema registered under a second subject shares the first one's
// ID. Registering it again reproduces that, and we check it does.
func (r *Registry) seed(subject string, version, id int, s sr.Schema) (err error) {
	if res := r.call(http.MethodGet, "/schemas/ids/"+strconv.Itoa(id), nil); res.Code == http.StatusOK {
		gotID, gotVersion, err := r.fake.RegisterSchema(subject, s)
		if err != nil {
			return fmt.Errorf("restore subject %q version %d with shared id %d: %w", subject, version, id, err)
		}
		if gotID != id || gotVersion != version {
			return fmt.Errorf("restore subject %q version %d with shared id %d: got version %d id %d", subject, version, id, gotVersion, gotID)
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("restore subject %q version %d id %d: %v", subject, version, id, p)
		}
	}()
	r.fake.SeedSchema(subject, version, id, s)
	return nil
}

// srfakeError is srfake's own error answer (for example subject or version
// not found), passed on to the client as it is.
type srfakeError struct {
	what string
	res  *httptest.ResponseRecorder
}

func (e *srfakeError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.what, e.res.Code, bytes.TrimSpace(e.res.Body.Bytes()))
}

// call serves one request through srfake's handler in process. The registry
// reads and changes srfake's state this way wherever srfake's HTTP behaviour
// (validation, version resolution, error codes) is what a client should see.
func (r *Registry) call(method, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	res := httptest.NewRecorder()
	r.fake.Handler().ServeHTTP(res, req)
	return res
}

// callJSON is call for a GET whose 200 answer decodes into out; any other
// answer is a *srfakeError.
func (r *Registry) callJSON(path string, out any) error {
	res := r.call(http.MethodGet, path, nil)
	if res.Code != http.StatusOK {
		return &srfakeError{what: "GET " + path, res: res}
	}
	if err := json.Unmarshal(res.Body.Bytes(), out); err != nil {
		return fmt.Errorf("GET %s: decode %q: %w", path, res.Body.Bytes(), err)
	}
	return nil
}

// lookup finds the live version of subject that holds the schema in body.
func (r *Registry) lookup(subject string, body []byte) (sr.SubjectSchema, bool, error) {
	var ss sr.SubjectSchema
	res := r.call(http.MethodPost, subjectPath(subject), body)
	switch res.Code {
	case http.StatusOK:
		if err := json.Unmarshal(res.Body.Bytes(), &ss); err != nil {
			return ss, false, fmt.Errorf("look up schema in subject %q: decode %q: %w", subject, res.Body.Bytes(), err)
		}
		return ss, true, nil
	case http.StatusNotFound:
		return ss, false, nil
	default:
		return ss, false, &srfakeError{what: "look up schema in subject " + strconv.Quote(subject), res: res}
	}
}

// check returns why candidate is incompatible with subject at the subject's
// level, one message per failing version and direction; none means
// compatible. version, if not empty, names the one version to check against.
func (r *Registry) check(subject, version string, candidate avro.Schema) ([]string, error) {
	var cfg struct {
		Level sr.CompatibilityLevel `json:"compatibilityLevel"`
	}
	if err := r.callJSON("/config/"+url.PathEscape(subject), &cfg); err != nil {
		return nil, err
	}
	rule, err := ruleFor(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("subject %q: %w", subject, err)
	}
	var against []sr.SubjectSchema
	if version != "" {
		var ss sr.SubjectSchema
		if err := r.callJSON(subjectPath(subject)+"/versions/"+url.PathEscape(version), &ss); err != nil {
			return nil, err
		}
		against = []sr.SubjectSchema{ss}
	} else if rule.backward || rule.forward {
		if against, err = r.history(subject); err != nil {
			return nil, err
		}
		if !rule.transitive && len(against) > 0 {
			against = against[len(against)-1:]
		}
	}

	var msgs []string
	for _, old := range against {
		prev, err := r.parse(old.Schema)
		if err != nil {
			return nil, fmt.Errorf("parse subject %q version %d (id %d): %w", subject, old.Version, old.ID, err)
		}
		// A fresh checker each time: hamba caches results by a
		// fingerprint that ignores defaults, so a cached verdict
		// could be about a different schema.
		if rule.backward {
			if err := avro.NewSchemaCompatibility().Compatible(candidate, prev); err != nil {
				msgs = append(msgs, fmt.Sprintf("%v: the new schema cannot read data written with version %d (id %d): %v", cfg.Level, old.Version, old.ID, err))
			}
		}
		if rule.forward {
			if err := avro.NewSchemaCompatibility().Compatible(prev, candidate); err != nil {
				msgs = append(msgs, fmt.Sprintf("%v: version %d (id %d) cannot read data written with the new schema: %v", cfg.Level, old.Version, old.ID, err))
			}
		}
	}
	return msgs, nil
}

// history returns the subject's live versions, oldest first; none if the
// subject does not exist.
func (r *Registry) history(subject string) ([]sr.SubjectSchema, error) {
	var versions []int
	err := r.callJSON(subjectPath(subject)+"/versions", &versions)
	var fe *srfakeError
	if errors.As(err, &fe) && fe.res.Code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]sr.SubjectSchema, 0, len(versions))
	for _, v := range versions {
		ss, ok := r.fake.GetSchema(subject, v)
		if !ok {
			return nil, fmt.Errorf("subject %q: version %d listed but not found", subject, v)
		}
		out = append(out, ss)
	}
	return out, nil
}

// rule is what a compatibility level asks of a new schema: that it reads
// data written with earlier versions (backward), that earlier versions read
// its data (forward), and whether against all versions or only the latest.
type rule struct{ backward, forward, transitive bool }

func ruleFor(l sr.CompatibilityLevel) (rule, error) {
	switch l {
	case sr.CompatNone:
		return rule{}, nil
	case sr.CompatBackward:
		return rule{backward: true}, nil
	case sr.CompatBackwardTransitive:
		return rule{backward: true, transitive: true}, nil
	case sr.CompatForward:
		return rule{forward: true}, nil
	case sr.CompatForwardTransitive:
		return rule{forward: true, transitive: true}, nil
	case sr.CompatFull:
		return rule{backward: true, forward: true}, nil
	case sr.CompatFullTransitive:
		return rule{backward: true, forward: true, transitive: true}, nil
	default:
		return rule{}, fmt.Errorf("unknown compatibility level %d", int(l))
	}
}

// readSchema reads a registration or compatibility request body, answering
// 422 if it is not a schema.
func (r *Registry) readSchema(w http.ResponseWriter, req *http.Request) ([]byte, sr.SubjectSchema, bool) {
	var in sr.SubjectSchema
	body, ok := readBody(w, req)
	if !ok {
		return nil, in, false
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code, "Invalid request body: %v", err)
		return nil, in, false
	}
	return body, in, true
}

// parseCandidate parses a schema a client sent, answering 422 if it is not
// valid Avro (or not Avro at all).
func (r *Registry) parseCandidate(w http.ResponseWriter, s sr.Schema) (avro.Schema, bool) {
	if s.Type != sr.TypeAvro {
		writeError(w, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code,
			"Invalid schema: baton's dev registry accepts only AVRO schemas (it can check only their compatibility), got %v", s.Type)
		return nil, false
	}
	parsed, err := r.parse(s)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code, "Invalid schema: %v", err)
		return nil, false
	}
	return parsed, true
}

// parse parses an Avro schema with its references resolved from the
// registry. It uses a cache of its own: hamba's default cache is global and
// would let a schema use a name that only some other schema defines.
func (r *Registry) parse(s sr.Schema) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := r.parseRefs(s.References, cache, map[sr.SchemaReference]bool{}); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(s.Schema, "", cache)
}

// parseRefs adds the named types of refs, and of their own references, to
// cache.
func (r *Registry) parseRefs(refs []sr.SchemaReference, cache *avro.SchemaCache, seen map[sr.SchemaReference]bool) error {
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		ss, ok := r.fake.GetSchema(ref.Subject, ref.Version)
		if !ok {
			return fmt.Errorf("reference %q: subject %q version %d not found", ref.Name, ref.Subject, ref.Version)
		}
		if err := r.parseRefs(ss.References, cache, seen); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(ss.Schema.Schema, "", cache); err != nil {
			return fmt.Errorf("reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
	}
	return nil
}

// subjectPath is the escaped /subjects/{subject} path.
func subjectPath(subject string) string { return "/subjects/" + url.PathEscape(subject) }

// readBody reads a request body of at most maxBody bytes, answering 422 if
// it cannot.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, sr.ErrInvalidSchema.Code, "Invalid request body: %v", err)
		return nil, false
	}
	return body, true
}

// respondJSON writes a Confluent-style JSON answer.
func respondJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeError writes a Confluent-style error: {"error_code":..., "message":...}.
func writeError(w http.ResponseWriter, status, code int, format string, args ...any) {
	respondJSON(w, status, map[string]any{"error_code": code, "message": fmt.Sprintf(format, args...)})
}

// fail answers an error: srfake's own answer as it is (a subject or version
// not found, an invalid subject name), anything else as a store error.
func fail(w http.ResponseWriter, err error) {
	var fe *srfakeError
	if errors.As(err, &fe) {
		copyResponse(w, fe.res)
		return
	}
	writeError(w, http.StatusInternalServerError, sr.ErrStoreError.Code, "%v", err)
}

// copyResponse passes an in-process srfake answer on to the client.
func copyResponse(w http.ResponseWriter, res *httptest.ResponseRecorder) {
	for k, v := range res.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(res.Code)
	_, _ = w.Write(res.Body.Bytes())
}
