package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// The SQLite driver prepares a statement for every ExecContext and
// QueryContext call and finalizes it afterwards, so every query is parsed and
// planned anew each time it runs: on the submission path SQLite's parser took
// a fifth to a quarter of the server's CPU. The types below keep each connection's recently used
// statements prepared, keyed by their text, underneath database/sql, so code
// calling *sql.DB and *sql.Tx as usual parses a query once per connection.
// PostgreSQL's driver (pgx) already caches statements per connection.

// stmtCacheSize bounds the statements each SQLite connection keeps prepared:
// well above the distinct queries a request runs, so the frequent ones stay,
// while queries whose text varies (IN lists of any length) cannot grow the
// cache without limit.
const stmtCacheSize = 200

// sqliteConn is what the cache needs of the driver's connection, and what
// database/sql uses of it; the wrapper passes every method but the two
// query methods and Close through unchanged, BEGIN IMMEDIATE included.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmt is a statement prepared by the driver.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// sqliteRows is the driver's rows, with the column types database/sql's
// ColumnTypes reads.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// connectSQLite opens a connection through c, refusing one that is not
// what the wrappers of this package were written for (a driver upgrade
// changed it).
func connectSQLite(ctx context.Context, c driver.Connector) (sqliteConn, error) {
	conn, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("the SQLite driver's connection %T lacks a method the store needs", conn)
	}
	return inner, nil
}

// stmtCacheConnector opens SQLite connections that cache their statements.
type stmtCacheConnector struct {
	driver.Connector
	size int
	// prepared counts the statements prepared into a cache, for tests.
	prepared atomic.Int64
}

// Connect opens a connection through the driver and wraps it.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := connectSQLite(ctx, c.Connector)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConn{sqliteConn: inner, connector: c, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// stmtCacheConn is one SQLite connection with its prepared statements.
// database/sql uses a connection from one goroutine at a time, closing rows
// included, so the cache needs no lock.
type stmtCacheConn struct {
	sqliteConn
	connector *stmtCacheConnector
	byQuery   map[string]*list.Element // of *cachedStmt
	lru       *list.List               // of *cachedStmt, most recently used first
}

// cachedStmt is a prepared statement and whether it is in use.
type cachedStmt struct {
	query string
	stmt  sqliteStmt
	// busy: it is running, or rows read from it are open. Running it again
	// would reset it under those rows.
	busy bool
	// evicted: it has left the cache while busy; it is finalized once free.
	evicted bool
}

// ExecContext runs query on its cached statement.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := s.stmt.ExecContext(ctx, args)
	c.release(s, err)
	return res, err
}

// QueryContext runs query on its cached statement; the statement stays busy
// until the rows are closed.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(s, err)
		return nil, err
	}
	typed, ok := rows.(sqliteRows)
	if !ok {
		rows.Close()
		c.release(s, nil)
		return nil, fmt.Errorf("the SQLite driver's rows %T lack a method the statement cache needs", rows)
	}
	return &cachedRows{sqliteRows: typed, conn: c, stmt: s}, nil
}

// acquire returns query's cached statement, prepared if it was not, marked
// busy. It returns nil, for the caller to run query on the driver as it
// stands, when query is a script or its statement is busy: a nested read of
// the same query while the outer rows are open gets a statement of its own.
func (c *stmtCacheConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		s := e.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		s.busy = true
		return s, nil
	}
	if isScript(query) {
		return nil, nil
	}
	prepared, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmt, ok := prepared.(sqliteStmt)
	if !ok {
		prepared.Close()
		return nil, nil
	}
	c.connector.prepared.Add(1)
	s := &cachedStmt{query: query, stmt: stmt, busy: true}
	c.byQuery[query] = c.lru.PushFront(s)
	if c.lru.Len() > c.connector.size {
		c.evict(c.lru.Back())
	}
	return s, nil
}

// release marks s free after a run. A statement that failed is dropped, so
// that one left unusable (the schema changed under it, say) never runs again;
// the next call prepares it afresh.
func (c *stmtCacheConn) release(s *cachedStmt, err error) {
	s.busy = false
	switch {
	case s.evicted:
		s.stmt.Close()
	case err != nil:
		c.evict(c.byQuery[s.query])
	}
}

// evict takes e's statement out of the cache and finalizes it, or leaves that
// to release while it is busy.
func (c *stmtCacheConn) evict(e *list.Element) {
	s := e.Value.(*cachedStmt)
	c.lru.Remove(e)
	delete(c.byQuery, s.query)
	s.evicted = true
	if !s.busy {
		s.stmt.Close()
	}
}

// Close finalizes the cached statements, which SQLite needs before it closes
// the connection, then closes it.
func (c *stmtCacheConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// cachedRows are rows read from a cached statement, which they free on Close.
type cachedRows struct {
	sqliteRows
	conn *stmtCacheConn
	stmt *cachedStmt // nil once closed
}

// Close resets the statement, through the driver's rows, and frees it. An
// error here is one the statement met while reading.
func (r *cachedRows) Close() error {
	if r.stmt == nil {
		return nil
	}
	err := r.sqliteRows.Close()
	r.conn.release(r.stmt, err)
	r.stmt = nil
	return err
}

// isScript reports whether query holds more than one statement, as a
// migration does: the driver runs those one after another, preparing each
// as it goes, so there is no one statement to cache. A ';' inside a string
// literal counts too; such a query is merely not cached.
func isScript(query string) bool {
	return strings.Contains(strings.TrimRight(query, "; \t\r\n"), ";")
}
