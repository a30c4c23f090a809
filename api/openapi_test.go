package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"movierec/api"
)

// openAPI is the parts of the served document the tests check.
type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas    map[string]map[string]any `json:"schemas"`
		Parameters map[string]parameter      `json:"parameters"`
		Responses  map[string]response       `json:"responses"`
	} `json:"components"`
}

type operation struct {
	Parameters []parameter           `json:"parameters"`
	Responses  map[string]response   `json:"responses"`
	Security   []map[string][]string `json:"security"`
}

type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type response struct {
	Ref     string                                     `json:"$ref"`
	Content map[string]struct{ Schema map[string]any } `json:"content"`
}

// loadOpenAPI fetches /openapi.json from h.
func loadOpenAPI(t *testing.T, s *api.Server) *openAPI {
	t.Helper()
	status, body, hdr := serve(t, s, get("/openapi.json"))
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json = %d %s", status, hdr.Get("Content-Type"))
	}
	var doc openAPI
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("decode /openapi.json: %v", err)
	}
	return &doc
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// TestOpenAPIMatchesRoutes walks every registered route and checks that the
// document has it with the same path parameters, and that the document has
// no route the server lacks.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, _ := newServer(t, api.Options{})
	doc := loadOpenAPI(t, s)
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		method := strings.ToLower(r.Method)
		switch method {
		case "head": // documented once, in the description: HEAD of every GET
			if _, ok := doc.Paths[path]["get"]; !ok {
				t.Errorf("route HEAD %s has no GET in /openapi.json", r.Path)
			}
			continue
		case "options": // documented once: OPTIONS on every path
			if _, ok := doc.Paths[path]; !ok {
				t.Errorf("route OPTIONS %s is on no path of /openapi.json", r.Path)
			}
			continue
		}
		registered[method+" "+path] = true
		op, ok := doc.Paths[path][method]
		if !ok {
			t.Errorf("route %s %s is missing from /openapi.json (as %s)", r.Method, r.Path, path)
			continue
		}
		var want, got []string
		for _, m := range ginParam.FindAllStringSubmatch(r.Path, -1) {
			want = append(want, m[1])
		}
		for _, p := range op.Parameters {
			if p = doc.param(p); p.In == "path" {
				got = append(got, p.Name)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s %s path parameters in the document = %v, want %v", r.Method, path, got, want)
		}
		if !slices.ContainsFunc(slices.Collect(maps.Keys(op.Responses)), func(k string) bool { return strings.HasPrefix(k, "2") }) {
			t.Errorf("%s %s declares no 2xx response", r.Method, path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !registered[method+" "+path] {
				t.Errorf("/openapi.json documents %s %s, which the server does not serve", strings.ToUpper(method), path)
			}
		}
	}
}

func (d *openAPI) param(p parameter) parameter {
	if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
		return d.Components.Parameters[name]
	}
	return p
}

// route finds the documented path template that matches a request path,
// preferring static segments (/movies/popular over /movies/{movie}).
func (d *openAPI) route(path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	best, bestParams := "", -1
	for tmpl := range d.Paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		params, ok := 0, true
		for i, s := range ts {
			if strings.HasPrefix(s, "{") {
				params++
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if ok && (bestParams < 0 || params < bestParams) {
			best, bestParams = tmpl, params
		}
	}
	return best, bestParams >= 0
}

// check asserts that a response to r is documented: the route and method
// exist, the status is declared, and a JSON body validates against the
// declared schema (types, required properties, items).
func (d *openAPI) check(t *testing.T, r request, status int, body string) {
	t.Helper()
	tmpl, ok := d.route(r.path)
	if !ok {
		if status != 404 {
			t.Errorf("%v: no documented route, but status %d", r, status)
		}
		return
	}
	op, ok := d.Paths[tmpl][strings.ToLower(r.method)]
	if !ok {
		if status != 405 {
			t.Errorf("%v: method not documented on %s, but status %d", r, tmpl, status)
		}
		return
	}
	resp, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		t.Errorf("%v = %d %s: status not declared for %s %s", r, status, body, r.method, tmpl)
		return
	}
	if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
		resp = d.Components.Responses[name]
	}
	media, ok := resp.Content["application/json"]
	if !ok {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Errorf("%v = %d: body %q is not JSON: %v", r, status, body, err)
		return
	}
	if err := d.validate(media.Schema, v, "$"); err != nil {
		t.Errorf("%v = %d %s: does not match the documented schema: %v", r, status, body, err)
	}
}

// validate checks v against the subset of JSON Schema the document uses.
func (d *openAPI) validate(schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		name, _ := strings.CutPrefix(ref, "#/components/schemas/")
		s, ok := d.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unresolved $ref %s", at, ref)
		}
		return d.validate(s, v, at)
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			err := d.validate(a.(map[string]any), v, at)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: matches no oneOf alternative: %s", at, strings.Join(errs, "; "))
	}
	typ, _ := schema["type"].(string)
	if types, ok := schema["type"].([]any); ok { // ["number", "null"]
		if v == nil && slices.Contains(types, any("null")) {
			return nil
		}
		typ, _ = types[0].(string)
	}
	switch typ {
	case "null":
		if v != nil {
			return fmt.Errorf("%s: %T, want null", at, v)
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", at, v)
		}
		req, _ := schema["required"].([]any)
		for _, k := range req {
			if _, ok := obj[k.(string)]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, k)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, pv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: property %q not allowed", at, k)
				}
				continue
			}
			if err := d.validate(ps, pv, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", at, v)
		}
		if n, ok := schema["minItems"].(float64); ok && len(arr) < int(n) {
			return fmt.Errorf("%s: %d items, want at least %v", at, len(arr), n)
		}
		if n, ok := schema["maxItems"].(float64); ok && len(arr) > int(n) {
			return fmt.Errorf("%s: %d items, want at most %v", at, len(arr), n)
		}
		prefix, _ := schema["prefixItems"].([]any)
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			s := items
			if i < len(prefix) {
				s = prefix[i].(map[string]any)
			}
			if s == nil {
				continue
			}
			if err := d.validate(s, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: %T, want a string", at, v)
		}
	case "number", "integer":
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: %T, want a number", at, v)
		}
		if typ == "integer" && f != float64(int64(f)) {
			return fmt.Errorf("%s: %v, want an integer", at, f)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", at, v)
		}
	}
	return nil
}
