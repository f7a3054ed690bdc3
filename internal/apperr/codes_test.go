package apperr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// literalCodesAllowedIn lists the folders whose apperr calls may still name
// their codes as string literals, because another change is moving their
// code at the same time. Each literal there must still be a declared code.
// Empty it once they use the constants.
var literalCodesAllowedIn = []string{}

// declaredCodes maps each Code constant's name in codes.go to its value.
func declaredCodes(t *testing.T) map[string]Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Code{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				t.Errorf("%s is not declared as a Code", vs.Names[0])
				continue
			}
			v, _ := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			out[vs.Names[0].Name] = Code(v)
		}
	}
	return out
}

func TestEveryCodeHasWords(t *testing.T) {
	declared := declaredCodes(t)
	seen := map[Code]string{}
	for name, c := range declared {
		if other, ok := seen[c]; ok {
			t.Errorf("%s and %s are both %q", name, other, c)
		}
		seen[c] = name
		w, ok := c.Words()
		if !ok || strings.TrimSpace(w.Zh) == "" || strings.TrimSpace(w.En) == "" {
			t.Errorf("%s (%s) lacks Chinese or English words: %+v", name, c, w)
		}
	}
	if len(Codes()) != len(declared) {
		t.Errorf("the table has %d codes, codes.go declares %d", len(Codes()), len(declared))
	}
	for k := Internal; k <= Unavailable; k++ {
		if _, ok := k.Code().Words(); !ok {
			t.Errorf("kind %d's code %s has no words", k, k.Code())
		}
	}
}

// TestEveryCallNamesADeclaredCode reads every Go file of the module (tests
// aside: they make codes the table lacks on purpose) and insists that each
// apperr.New, apperr.Wrap and apperr.Error literal names its code by a
// constant of codes.go, so every code people can meet has words.
func TestEveryCallNamesADeclaredCode(t *testing.T) {
	declared := declaredCodes(t)
	values := map[Code]bool{}
	for _, c := range declared {
		values[c] = true
	}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		literalsAllowed := false
		for _, dir := range literalCodesAllowedIn {
			literalsAllowed = literalsAllowed || strings.HasPrefix(filepath.ToSlash(rel), dir+"/")
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		check := func(code ast.Expr) {
			switch c := code.(type) {
			case *ast.SelectorExpr:
				if x, ok := c.X.(*ast.Ident); ok && x.Name == "apperr" {
					if _, ok := declared[c.Sel.Name]; ok {
						return
					}
				}
			case *ast.BasicLit:
				v, _ := strconv.Unquote(c.Value)
				if literalsAllowed && values[Code(v)] {
					return
				}
			}
			t.Errorf("%s: the code is not a constant of apperr's codes.go", fset.Position(code.Pos()))
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				switch {
				case isApperr(n.Fun, "New") && len(n.Args) > 1:
					check(n.Args[1])
				case isApperr(n.Fun, "Wrap") && len(n.Args) > 2:
					check(n.Args[2])
				}
			case *ast.CompositeLit:
				if !isApperr(n.Type, "Error") {
					break
				}
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Code" {
						check(kv.Value)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isApperr reports whether e is apperr.name.
func isApperr(e ast.Expr, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := s.X.(*ast.Ident)
	return ok && x.Name == "apperr" && s.Sel.Name == name
}
