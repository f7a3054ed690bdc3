package workbench

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/org"
	"yiwang/internal/web"
)

// How the staff pages show values that are stored as codes: platform codes
// go through web.Label; values the item defines through its catalogue
// names; departments by their directory names.

// deptNamer names a department by its directory entry. Template functions
// get no request context, and a list names a department on every row (the
// overdue board and the queue, 500 rows): the directory is read whole, at
// most once every deptNamesTTL, rather than a query a row.
func deptNamer(dirs *org.Store) func(lang, code string) string {
	var (
		mu    sync.Mutex
		names map[string]org.Department
		read  time.Time
	)
	return func(lang, code string) string {
		if code == "" || dirs == nil {
			return code
		}
		mu.Lock()
		if names == nil || time.Since(read) > deptNamesTTL {
			if list, err := dirs.Departments(context.Background()); err == nil {
				names, read = map[string]org.Department{}, time.Now()
				for _, d := range list {
					names[d.Code] = d
				}
			}
		}
		d, ok := names[code]
		mu.Unlock()
		if !ok {
			return code
		}
		return pick(lang, d.NameZh, d.NameEn)
	}
}

// deptNamesTTL is how long a department's new name may take to show on
// the staff pages: departments change with a catalogue import.
const deptNamesTTL = time.Minute

// dataName names a registry field ("population.household_region") or a
// source by the hub's labels ("人口库 · 户籍地").
func dataName(lang, name string) string {
	s, f, ok := hub.Named(name)
	switch {
	case !ok:
		return name
	case f.Name == "":
		return s.In(lang)
	}
	return s.In(lang) + " · " + f.In(lang)
}

// materialSource says where an attached material came from: the registry
// by its name (the licence number or value follows it on the page), or how
// the applicant or the window supplied it.
func materialSource(lang, source string) string {
	kind, rest, _ := strings.Cut(source, ":")
	switch kind {
	case "licence":
		return hub.SourceName(lang, "licence."+rest)
	case "registry":
		return hub.SourceName(lang, rest)
	}
	return web.Label(lang, "source", source)
}

// staffRef names the actor of a catalogue or calendar record ("staff:10",
// "cli:root", "system:demo"), staff by their account's name.
func (d Deps) staffRef(lang, ref string) string {
	name := ""
	if id, ok := strings.CutPrefix(ref, "staff:"); ok && d.Identities != nil {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			if acc, err := d.Identities.Account(context.Background(), n); err == nil {
				name = acc.DisplayName
			}
		}
	}
	return web.ActorRef(lang, ref, name)
}

// tracedValue shows a computed field's value as the form shows it: an
// option by its label, not its code.
func tracedValue(lang string, it catalog.Item, field string, v any) string {
	for _, f := range it.Form {
		if f.ID == field {
			return f.Shown(v, lang)
		}
	}
	return formValue(v)
}

// tracePath names a value a computation looked at: a form field by its
// label, a registry field by the hub's names.
func tracePath(lang string, it catalog.Item, path string) string {
	root, rest, _ := strings.Cut(path, ".")
	switch root {
	case "form":
		return web.Label(lang, "trace", "form") + " · " + it.NameOf(rest).In(lang)
	case "sources":
		return dataName(lang, rest)
	}
	return web.Label(lang, "trace", path)
}
