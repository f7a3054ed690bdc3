package store

import (
	"context"
	"database/sql/driver"
	"sync"
	"time"

	"yiwang/internal/apperr"
)

// SQLite has one writer, and every transaction here is a writer (BEGIN
// IMMEDIATE). Left to SQLite, the writers that find the lock taken wait in
// its busy handler, which sleeps in growing steps of up to 100 ms and so
// misses the moment the lock frees: under load most of a write's time was
// sleep, and a writer that kept losing (the job queue's) timed out. The
// gate below queues a process's transactions in Go instead, first come
// first served, each starting as soon as the one before ends; SQLite's busy
// handler is left to settle with other processes (the command line, a
// backup).

// gateConnector opens connections whose transactions pass through gate.
type gateConnector struct {
	driver.Connector
	gate chan struct{} // holds a token while a transaction is open
}

// Connect opens a connection through the connector it wraps.
func (c *gateConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := connectSQLite(ctx, c.Connector)
	if err != nil {
		return nil, err
	}
	return &gateConn{sqliteConn: inner, gate: c.gate}, nil
}

// gateConn is a connection whose BeginTx waits its turn at the gate.
type gateConn struct {
	sqliteConn
	gate chan struct{}
}

// BeginTx waits for the gate — no longer than the busy timeout, or than
// ctx — and then begins the transaction, which gives the gate back when it
// ends.
func (c *gateConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	wait := time.NewTimer(busyTimeout)
	defer wait.Stop()
	select {
	case c.gate <- struct{}{}:
	case <-wait.C:
		return nil, apperr.New(apperr.Unavailable, apperr.DatabaseBusy, "the database is busy with other writes and this one was not saved; try again in a moment")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		<-c.gate
		return nil, err
	}
	return &gatedTx{Tx: tx, gate: c.gate}, nil
}

// gatedTx gives the gate back once, when it commits or rolls back.
type gatedTx struct {
	driver.Tx
	gate chan struct{}
	once sync.Once
}

func (t *gatedTx) Commit() error {
	defer t.leave()
	return t.Tx.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.leave()
	return t.Tx.Rollback()
}

func (t *gatedTx) leave() { t.once.Do(func() { <-t.gate }) }
