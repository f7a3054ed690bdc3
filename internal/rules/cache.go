package rules

import (
	"fmt"
	"strings"
	"sync"

	"yiwang/internal/catalog"
)

// Cache keeps one compiled Program per catalogue version, so an item's
// rules are compiled once however many applications it decides. A
// version's content never changes once stored (the database refuses), so
// the version id is the whole key. It is safe for concurrent use; the zero
// value is ready. Entries are never evicted: a program is a few kilobytes
// and a catalogue has hundreds of versions, not millions.
type Cache struct {
	mu      sync.Mutex
	entries map[int64]*cacheEntry
}

type cacheEntry struct {
	once sync.Once
	prg  *Program
	err  error
}

// CompileError is an item whose rules do not compile.
type CompileError struct {
	Item     string
	Problems []Problem
}

func (e *CompileError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return fmt.Sprintf("the rules of item %s do not compile: %s", e.Item, strings.Join(msgs, "; "))
}

// Get returns the program of catalogue version versionID, compiling item
// the first time. Concurrent first calls compile once. A version whose
// rules do not compile gives a *CompileError, every time.
func (c *Cache) Get(versionID int64, item catalog.Item) (*Program, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[int64]*cacheEntry{}
	}
	e, ok := c.entries[versionID]
	if !ok {
		e = &cacheEntry{}
		c.entries[versionID] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		prg, problems := Compile(item)
		if len(problems) > 0 {
			e.err = &CompileError{Item: item.Code, Problems: problems}
			return
		}
		prg.version = versionID
		e.prg = prg
	})
	return e.prg, e.err
}

// Len returns the number of versions cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
