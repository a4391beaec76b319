// helm-render: renders a Helm 3 chart the way `helm template` does, for the subset of
// Helm that this project's chart (helm/gvp) uses. Helm itself is not packaged in
// Debian; this is built offline from Debian's Go packages (text/template, sprig v3,
// yaml.v2) in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render .
//
// Usage:
//
//	helm-render [-f values.yaml]... [--name RELEASE] [--namespace NS] CHART_DIR
//
// Faithful to Helm 3 in these points:
//   - values: the chart's values.yaml, then each -f file deep-merged over it in order
//     (maps merge key by key, anything else replaces, a null deletes the key); numbers
//     become float64 as in Helm (sigs.k8s.io/yaml -> encoding/json);
//   - built-in objects: .Values, .Release (Name, Namespace, Service, IsInstall,
//     IsUpgrade, Revision), .Chart (Chart.yaml fields, capitalised like Helm's),
//     .Template (Name, BasePath), .Files (Get, GetBytes, Lines, Glob-free), and
//     .Capabilities.KubeVersion;
//   - functions: sprig's TxtFuncMap without env/expandenv, plus include, tpl,
//     required, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray and
//     lookup (always empty, as in `helm template`);
//   - every file under templates/ shares one template set (so _helpers.tpl defines
//     are visible everywhere); files whose name starts with "_" and NOTES.txt are not
//     rendered; missing keys render as empty (missingkey=zero and "<no value>"
//     removed); whitespace-only output is dropped; each file is printed as
//     "---\n# Source: CHART/templates/FILE\n" followed by its output.
//
// Not implemented (the chart must not use them): subcharts and dependencies,
// --set, toToml, .Capabilities.APIVersions, .Files.Glob/AsConfig/AsSecrets, hooks
// ordering, schema validation, sorting manifests by kind.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/ioutil"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// ---- values -------------------------------------------------------------------

// toJSONish converts what yaml.v2 produced into what encoding/json would: maps with
// string keys, []interface{}, float64 numbers, strings, bools, nil. This is what Helm
// gets from sigs.k8s.io/yaml.
func toJSONish(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			c, err := toJSONish(val)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case map[string]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, val := range x {
			c, err := toJSONish(val)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []interface{}:
		l := make([]interface{}, len(x))
		for i, val := range x {
			c, err := toJSONish(val)
			if err != nil {
				return nil, err
			}
			l[i] = c
		}
		return l, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64, string, bool, nil:
		return x, nil
	default:
		return fmt.Sprint(x), nil
	}
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	v, err := toJSONish(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: top level is not a map", file)
	}
	return m, nil
}

// mergeValues merges src over dst (Helm's coalescing of user values over chart
// defaults): nested maps merge, other values replace, null deletes.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			dst[k] = mergeValues(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// ---- .Files ---------------------------------------------------------------------

type files map[string][]byte

func (f files) GetBytes(name string) []byte { return f[name] }
func (f files) Get(name string) string      { return string(f[name]) }
func (f files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// ---- Helm's extra functions -------------------------------------------------------

func toYAML(v interface{}) string {
	// Helm: sigs.k8s.io/yaml.Marshal = json.Marshal then JSONToYAML (yaml.v2), and
	// the trailing newline trimmed.
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(s string) map[string]interface{} {
	var raw interface{}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &raw); err != nil {
		m["Error"] = err.Error()
		return m
	}
	v, _ := toJSONish(raw)
	if mm, ok := v.(map[string]interface{}); ok {
		return mm
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var raw interface{}
	if err := yaml.Unmarshal([]byte(s), &raw); err != nil {
		return []interface{}{err.Error()}
	}
	v, _ := toJSONish(raw)
	if l, ok := v.([]interface{}); ok {
		return l
	}
	return []interface{}{}
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

// ---- rendering --------------------------------------------------------------------

type renderer struct {
	root     *template.Template
	depth    int
	tplCount int
}

const maxIncludeDepth = 1000

func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["fromJsonArray"] = fromJSONArray
	f["required"] = required
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	// include and tpl need the template set; they are bound after parsing but must
	// exist in the map at parse time.
	f["include"] = func(name string, data interface{}) (string, error) {
		return "", errors.New("include called before the templates were parsed")
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		return "", errors.New("tpl called before the templates were parsed")
	}
	return f
}

func (r *renderer) include(name string, data interface{}) (string, error) {
	if r.depth >= maxIncludeDepth {
		return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
	}
	r.depth++
	defer func() { r.depth-- }()
	var buf bytes.Buffer
	if err := r.root.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func (r *renderer) tpl(text string, data interface{}) (string, error) {
	t, err := r.root.Clone()
	if err != nil {
		return "", err
	}
	r.tplCount++
	name := fmt.Sprintf("tpl-%d", r.tplCount)
	// The clone keeps the parse-time stubs; rebind include/tpl to the live ones.
	t.Funcs(template.FuncMap{"include": r.include, "tpl": r.tpl})
	if _, err := t.New(name).Parse(text); err != nil {
		return "", fmt.Errorf("cannot parse template %q: %v", text, err)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("error calling tpl: %v", err)
	}
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

func run(args []string) error {
	var valueFiles multiFlag
	release, namespace, chartDir := "release-name", "default", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch {
		case a == "-f" || a == "--values":
			var v string
			v, err = next()
			valueFiles = append(valueFiles, v)
		case strings.HasPrefix(a, "--values="):
			valueFiles = append(valueFiles, strings.TrimPrefix(a, "--values="))
		case a == "--name" || a == "-n":
			release, err = next()
		case a == "--namespace":
			namespace, err = next()
		case strings.HasPrefix(a, "--name="):
			release = strings.TrimPrefix(a, "--name=")
		case strings.HasPrefix(a, "--namespace="):
			namespace = strings.TrimPrefix(a, "--namespace=")
		case a == "-h" || a == "--help":
			fmt.Println("usage: helm-render [-f values.yaml]... [--name RELEASE] [--namespace NS] CHART_DIR")
			os.Exit(0)
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("unknown option %s", a)
		default:
			if chartDir != "" {
				return fmt.Errorf("more than one chart directory given")
			}
			chartDir = a
		}
		if err != nil {
			return err
		}
	}
	if chartDir == "" {
		return errors.New("usage: helm-render [-f values.yaml]... [--name RELEASE] [--namespace NS] CHART_DIR")
	}

	// Chart.yaml
	chartMeta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := chartMeta["name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml: name is required")
	}
	if _, ok := chartMeta["version"].(string); !ok {
		return errors.New("Chart.yaml: version is required and must be a string")
	}
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		// Helm exposes Chart.yaml fields with capitalised names (chart.Metadata).
		key := strings.ToUpper(k[:1]) + k[1:]
		if k == "apiVersion" {
			key = "APIVersion"
		}
		chart[key] = v
	}

	// values
	values := map[string]interface{}{}
	if _, err := os.Stat(filepath.Join(chartDir, "values.yaml")); err == nil {
		if values, err = readYAMLMap(filepath.Join(chartDir, "values.yaml")); err != nil {
			return err
		}
	}
	for _, f := range valueFiles {
		over, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		values = mergeValues(values, over)
	}

	// templates and other files
	var tplNames []string
	tplText := map[string]string{}
	fs := files{}
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		if info.IsDir() {
			if rel == "charts" {
				return errors.New("subcharts (charts/) are not supported")
			}
			return nil
		}
		data, err := ioutil.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			name := chartName + "/" + rel
			tplNames = append(tplNames, name)
			tplText[name] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" && rel != ".helmignore" {
			fs[rel] = data
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(tplNames)

	r := &renderer{}
	r.root = template.New("gotpl").Funcs(r.funcs()).Option("missingkey=zero")
	for _, name := range tplNames {
		if _, err := r.root.New(name).Parse(tplText[name]); err != nil {
			return fmt.Errorf("parse error in %s", err)
		}
	}
	r.root.Funcs(template.FuncMap{"include": r.include, "tpl": r.tpl})

	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": chart,
		"Files": fs,
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.27.0", "Major": "1", "Minor": "27", "GitVersion": "v1.27.0"},
		},
	}

	var out bytes.Buffer
	for _, name := range tplNames {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		ctx := map[string]interface{}{}
		for k, v := range top {
			ctx[k] = v
		}
		ctx["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := r.root.ExecuteTemplate(&buf, name, ctx); err != nil {
			return fmt.Errorf("render error in %v", err)
		}
		s := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(s) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.Trim(s, "\n"))
	}
	_, err = os.Stdout.Write(out.Bytes())
	return err
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "helm-render: Error:", err)
		os.Exit(1)
	}
}
