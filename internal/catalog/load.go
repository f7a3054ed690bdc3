package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"yiwang/internal/apperr"
)

//go:embed schema/*.json
var schemaFS embed.FS

// Problem is one thing wrong with a catalogue, at a place in a file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"` // in English
	Zh      string `json:"zh"`      // the same in Chinese; CEL and schema-library text stays English after a Chinese lead
	// Warning marks something that works but is likely not what was meant:
	// it does not stop an import or a publication.
	Warning bool `json:"warning,omitempty"`
}

// String renders the problem as file:line:col: message, the form editors
// and CI logs understand.
func (p Problem) String() string {
	if p.Warning {
		return fmt.Sprintf("%s:%d:%d: warning: %s", p.File, p.Line, p.Col, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Source is an item as written: its file name, its bytes and the position of
// every value, so problems found later can point into the file.
type Source struct {
	File string
	Raw  []byte
	pos  positions
}

// LoadedItem is an item together with where it came from.
type LoadedItem struct {
	Item
	Source
}

// Catalogue is a whole catalogue folder: departments, e-licence types and items.
type Catalogue struct {
	Regions     []Region
	Departments []Department
	Halls       []Hall
	Licences    []LicenceType
	Items       []*LoadedItem
	// Bundles are the 一件事 files under bundles/.
	Bundles []*LoadedBundle
	// Warnings are what LoadFS found likely wrong but usable (Problem.Warning).
	Warnings   []Problem
	deptSource Source
	licSource  Source
}

// Files in a catalogue folder.
const (
	DepartmentsFile = "departments.yaml"
	LicencesFile    = "licences.yaml"
	testsSuffix     = ".tests.yaml" // rule tests beside items, read by the rules package
)

// Schemas holds the compiled JSON Schemas of the catalogue format.
type Schemas struct {
	item, departments, licences, bundle *jsonschema.Schema
}

// CompileSchemas compiles the embedded schemas. It fails only if they are broken.
func CompileSchemas() (*Schemas, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	compile := func(name string) (*jsonschema.Schema, error) {
		b, err := schemaFS.ReadFile("schema/" + name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		if err := c.AddResource(name, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		return c.Compile(name)
	}
	var s Schemas
	var err error
	if s.item, err = compile("item.schema.json"); err != nil {
		return nil, err
	}
	if s.departments, err = compile("departments.schema.json"); err != nil {
		return nil, err
	}
	if s.licences, err = compile("licences.schema.json"); err != nil {
		return nil, err
	}
	if s.bundle, err = compile("bundle.schema.json"); err != nil {
		return nil, err
	}
	return &s, nil
}

// SchemaJSON returns the item format's JSON Schema, for serving and docs.
func SchemaJSON() []byte {
	b, _ := schemaFS.ReadFile("schema/item.schema.json")
	return b
}

// LoadFS reads a catalogue folder: departments.yaml and licences.yaml at its
// root, one bundle per .yaml file under bundles/ and one item per other
// .yaml file anywhere below. It returns every
// problem it finds — structural and semantic — rather than stopping at the
// first, so an administrator can fix them all in one pass. The catalogue is
// usable only if there are no problems; its Warnings do not stop it.
func (s *Schemas) LoadFS(fsys fs.FS) (*Catalogue, []Problem) {
	c := &Catalogue{}
	var problems []Problem
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, testsSuffix) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, []Problem{{File: ".", Line: 1, Col: 1, Message: "cannot read the catalogue folder: " + err.Error(), Zh: "无法读取事项库文件夹：" + err.Error()}}
	}
	read := func(name string) ([]byte, bool) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			problems = append(problems, Problem{File: name, Line: 1, Col: 1, Message: "cannot read: " + err.Error(), Zh: "无法读取：" + err.Error()})
			return nil, false
		}
		return b, true
	}
	for _, f := range files {
		b, ok := read(f)
		if !ok {
			continue
		}
		switch f {
		case DepartmentsFile:
			var doc struct {
				Regions     []Region     `yaml:"regions"`
				Departments []Department `yaml:"departments"`
				Halls       []Hall       `yaml:"halls"`
			}
			src, ps := parseInto(f, b, s.departments, &doc)
			c.Regions, c.Departments, c.Halls, c.deptSource = doc.Regions, doc.Departments, doc.Halls, src
			problems = append(problems, ps...)
		case LicencesFile:
			var doc struct {
				Licences []LicenceType `yaml:"licences"`
			}
			src, ps := parseInto(f, b, s.licences, &doc)
			c.Licences, c.licSource = doc.Licences, src
			problems = append(problems, ps...)
		default:
			if strings.HasPrefix(f, BundlesDir) {
				var bd Bundle
				src, ps := parseInto(f, b, s.bundle, &bd)
				problems = append(problems, ps...)
				if src.pos != nil && len(ps) == 0 {
					c.Bundles = append(c.Bundles, &LoadedBundle{Bundle: bd, Source: src})
				}
				continue
			}
			item, ps := s.ParseItem(f, b)
			problems = append(problems, ps...)
			if item != nil {
				c.Items = append(c.Items, item)
			}
		}
	}
	if !slices.Contains(files, DepartmentsFile) {
		problems = append(problems, Problem{File: DepartmentsFile, Line: 1, Col: 1, Message: "missing: a catalogue declares its departments in departments.yaml at its root",
			Zh: "缺少部门目录：事项库须在根目录的departments.yaml中声明部门"})
	}
	if !slices.Contains(files, LicencesFile) {
		problems = append(problems, Problem{File: LicencesFile, Line: 1, Col: 1, Message: "missing: a catalogue declares its e-licence types in licences.yaml at its root",
			Zh: "缺少证照目录：事项库须在根目录的licences.yaml中声明电子证照类型"})
	}
	if len(c.Items) == 0 && len(problems) == 0 {
		problems = append(problems, Problem{File: ".", Line: 1, Col: 1, Message: "the catalogue has no items: add one .yaml file per item",
			Zh: "事项库中没有事项：每个事项一个.yaml文件"})
	}
	for _, p := range c.check() {
		if p.Warning {
			c.Warnings = append(c.Warnings, p)
		} else {
			problems = append(problems, p)
		}
	}
	sortProblems(problems)
	sortProblems(c.Warnings)
	return c, problems
}

// ParseItem parses and structurally validates one item file. It returns nil
// when the file is not a usable item.
func (s *Schemas) ParseItem(file string, data []byte) (*LoadedItem, []Problem) {
	var it Item
	src, problems := parseInto(file, data, s.item, &it)
	if src.pos == nil || len(problems) > 0 {
		return nil, problems
	}
	return &LoadedItem{Item: it, Source: src}, nil
}

// maxFileSize bounds one catalogue file; real items are a few kilobytes.
const maxFileSize = 1 << 20

// parseInto parses YAML, validates it against schema and decodes it into v.
func parseInto(file string, data []byte, schema *jsonschema.Schema, v any) (src Source, problems []Problem) {
	src = Source{File: file, Raw: data}
	if len(data) > maxFileSize {
		return src, []Problem{{File: file, Line: 1, Col: 1, Message: fmt.Sprintf("file is %d bytes, more than the %d a catalogue file may have", len(data), maxFileSize),
			Zh: fmt.Sprintf("文件有%d字节，超过事项库文件上限%d字节", len(data), maxFileSize)}}
	}
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		return src, []Problem{yamlProblem(file, err)}
	}
	if len(doc.Content) == 0 {
		return src, []Problem{{File: file, Line: 1, Col: 1, Message: "file is empty", Zh: "文件是空的"}}
	}
	root := doc.Content[0]
	pos := positions{}
	instance, err := toJSONValue(root, "", pos, 0)
	if err != nil {
		return src, []Problem{{File: file, Line: err.line, Col: err.col, Message: err.en, Zh: err.zh}}
	}
	if err := schema.Validate(instance); err != nil {
		verr, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return src, []Problem{{File: file, Line: 1, Col: 1, Message: err.Error(), Zh: "无法按事项格式检查：" + err.Error()}}
		}
		for _, leaf := range leafErrors(verr) {
			ptr := "/" + strings.Join(leaf.InstanceLocation, "/")
			if len(leaf.InstanceLocation) == 0 {
				ptr = ""
			}
			at := pos.value(ptr)
			if ap, ok := leaf.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
				at = pos.key(strings.TrimSuffix(ptr, "/") + "/" + ap.Properties[0])
			}
			zh, en := describe(ptr, leaf)
			problems = append(problems, Problem{File: file, Line: at.Line, Col: at.Column, Message: en, Zh: zh})
		}
		sortProblems(problems)
		return src, slices.Compact(problems)
	}
	if err := root.Decode(v); err != nil {
		return src, []Problem{yamlProblem(file, err)}
	}
	src.pos = pos
	return src, nil
}

// safeUnmarshal guards against the YAML library panicking on hostile input:
// a catalogue folder may come from anywhere.
func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the file cannot be parsed (%v)", r)
		}
	}()
	return yaml.Unmarshal(data, n)
}

var yamlLine = strings.NewReplacer("yaml: ", "")

func yamlProblem(file string, err error) Problem {
	msg := yamlLine.Replace(err.Error())
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, tail
			}
		}
	}
	return Problem{File: file, Line: line, Col: 1, Message: "not valid YAML: " + msg, Zh: "不是有效的YAML：" + msg}
}

// leafErrors flattens a validation error to the failures a person can act
// on. A oneOf/anyOf failure is kept whole: its branches' complaints about
// shapes the author did not mean would only confuse.
func leafErrors(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		return []*jsonschema.ValidationError{e}
	}
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leafErrors(c)...)
	}
	return out
}

var printer = message.NewPrinter(language.English)

// patternHints explain the schema's patterns in words.
var patternHints = map[string]apperr.Words{
	"^[a-z][a-z0-9_]{0,47}$": {Zh: "id和编码只能用小写英文字母、数字和下划线，以字母开头，最多48个字符",
		En: "ids and codes use lower-case ASCII letters, digits and underscores, start with a letter, at most 48 characters"},
	"^[a-z0-9][a-z0-9_]{0,47}$": {Zh: "取值只能用小写英文字母、数字和下划线，最多48个字符",
		En: "values use lower-case ASCII letters, digits and underscores, at most 48 characters"},
	"^[0-9A-HJ-NP-RTUW-Y]{18}-[0-9]{2}-[0-9]{5}$": {Zh: "事项编码的格式是“统一社会信用代码-类别代码-序号”：部门18位统一社会信用代码、2位类别代码、5位序号",
		En: "an item code is CREDITCODE-KK-NNNNN: the department's 18-character credit code, the two-digit kind code, a five-digit sequence"},
	"^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*){1,2}$": {Zh: "来源须写成来源.字段（如population.name）或licence.类型.字段",
		En: "a source is written SOURCE.FIELD (population.name) or licence.TYPE.FIELD"},
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}$": {Zh: "日期请按“年-月-日”写，如2027-01-01", En: "write the date as YYYY-MM-DD"},
	"^[0-9A-HJ-NP-RTUW-Y]{18}$": {Zh: "统一社会信用代码为18位，由0-9和A-Y（不含I、O、S、V、Z）组成",
		En: "a unified social credit code has 18 characters of 0-9 and A-Y without I, O, S, V, Z"},
}

// describe turns a schema failure into a sentence naming the element, in
// Chinese and English. Failures without words of ours keep the schema
// library's English after a Chinese lead.
func describe(ptr string, e *jsonschema.ValidationError) (zh, en string) {
	where := strings.TrimPrefix(ptr, "/")
	whereZh := where
	if where == "" {
		where, whereZh = "the file", "文件"
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return fmt.Sprintf("%s：缺少必填项%s", whereZh, quoteList(k.Missing)), fmt.Sprintf("%s: missing required %s", where, quoteList(k.Missing))
	case *kind.AdditionalProperties:
		return fmt.Sprintf("%s：无法识别的项%s（请对照docs/CATALOGUE.md检查拼写）", whereZh, quoteList(k.Properties)),
			fmt.Sprintf("%s: unknown element %s (check the spelling against docs/CATALOGUE.md)", where, quoteList(k.Properties))
	case *kind.Enum:
		return fmt.Sprintf("%s：不能是%s，可选%s", whereZh, jsonString(k.Got), enumList(k.Want)),
			fmt.Sprintf("%s: %s is not allowed; use one of %s", where, jsonString(k.Got), enumList(k.Want))
	case *kind.Pattern:
		if hint, ok := patternHints[k.Want]; ok {
			return fmt.Sprintf("%s：不能是%q：%s", whereZh, k.Got, hint.Zh), fmt.Sprintf("%s: %q is not allowed: %s", where, k.Got, hint.En)
		}
		return fmt.Sprintf("%s：%q的格式不对（%s）", whereZh, k.Got, k.Want), fmt.Sprintf("%s: %q does not have the required form (%s)", where, k.Got, k.Want)
	case *kind.OneOf:
		return fmt.Sprintf("%s：不符合任何一种允许的写法（见docs/CATALOGUE.md）：%s", whereZh, e.ErrorKind.LocalizedString(printer)),
			fmt.Sprintf("%s: does not match exactly one of the allowed shapes (see docs/CATALOGUE.md): %s", where, e.ErrorKind.LocalizedString(printer))
	}
	return whereZh + "：不符合事项格式：" + e.ErrorKind.LocalizedString(printer), where + ": " + e.ErrorKind.LocalizedString(printer)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func enumList(vals []any) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = jsonString(v)
	}
	return strings.Join(q, ", ")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortProblems(ps []Problem) {
	slices.SortFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Col != b.Col {
			return a.Col - b.Col
		}
		return strings.Compare(a.Message, b.Message)
	})
}

// positions maps a JSON pointer to where its value (and, for mapping entries,
// its key) is written.
type positions map[string]nodePos

type nodePos struct{ key, value *yaml.Node }

type place struct{ Line, Column int }

func (p positions) value(ptr string) place {
	for {
		if n, ok := p[ptr]; ok && n.value != nil {
			return place{n.value.Line, n.value.Column}
		}
		if ptr == "" {
			return place{1, 1}
		}
		ptr = ptr[:strings.LastIndex(ptr, "/")]
	}
}

func (p positions) key(ptr string) place {
	if n, ok := p[ptr]; ok && n.key != nil {
		return place{n.key.Line, n.key.Column}
	}
	return p.value(ptr)
}

// At returns the position of the value at JSON pointer ptr in the source, or
// of its nearest written parent.
func (s Source) At(ptr string) (line, col int) {
	pl := s.pos.value(ptr)
	return pl.Line, pl.Column
}

type convError struct {
	line, col int
	zh, en    string
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 64

// toJSONValue converts a YAML node to the values JSON Schema validates —
// maps with string keys, slices, strings, json.Number, bools, nil — and
// records the position of every value under its JSON pointer.
func toJSONValue(n *yaml.Node, ptr string, pos positions, depth int) (any, *convError) {
	if depth > maxDepth {
		return nil, &convError{n.Line, n.Column, "嵌套层数过多", "nested too deeply"}
	}
	if _, ok := pos[ptr]; !ok {
		pos[ptr] = nodePos{value: n}
	} else {
		np := pos[ptr]
		np.value = n
		pos[ptr] = np
	}
	switch n.Kind {
	case yaml.AliasNode:
		return nil, &convError{n.Line, n.Column, "事项库中不能使用YAML别名（*name），请直接写出取值", "YAML aliases (*name) are not allowed in a catalogue: write the value out"}
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toJSONValue(n.Content[0], ptr, pos, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, &convError{k.Line, k.Column, "键须是普通名称", "keys must be plain names"}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &convError{k.Line, k.Column, fmt.Sprintf("%q在同一层中写了两次", k.Value), fmt.Sprintf("%q is written twice in the same mapping", k.Value)}
			}
			child := ptr + "/" + escapePointer(k.Value)
			pos[child] = nodePos{key: k}
			val, err := toJSONValue(v, child, pos, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			val, err := toJSONValue(c, ptr+"/"+strconv.Itoa(i), pos, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = val
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, &convError{n.Line, n.Column, "取值有误：" + err.Error(), err.Error()}
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, &convError{n.Line, n.Column, fmt.Sprintf("%q不是有限的数字", n.Value), fmt.Sprintf("%q is not a finite number", n.Value)}
			}
			return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
		case "!!str":
			return n.Value, nil
		default:
			return nil, &convError{n.Line, n.Column, fmt.Sprintf("事项库不使用%s类型的取值，请加引号作为文本", n.ShortTag()), fmt.Sprintf("values of type %s are not used in a catalogue; quote it to make it text", n.ShortTag())}
		}
	}
	return nil, &convError{n.Line, n.Column, "无法识别的YAML内容", "unexpected YAML node"}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
