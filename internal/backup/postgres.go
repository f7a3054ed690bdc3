package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// pgTools are the PostgreSQL client programs a backup and a restore run.
type pgTools struct{ dump, restore string }

// findPGTools finds pg_dump and pg_restore in bin, or on PATH when bin is
// empty.
func findPGTools(bin string) (pgTools, error) {
	var t pgTools
	for _, p := range []struct {
		name string
		to   *string
	}{{"pg_dump", &t.dump}, {"pg_restore", &t.restore}} {
		path := p.name
		if bin != "" {
			path = filepath.Join(bin, p.name)
		}
		found, err := exec.LookPath(path)
		if err != nil {
			where := "on PATH"
			if bin != "" {
				where = "in " + bin
			}
			return t, fmt.Errorf("%s is not %s: install the PostgreSQL client programs of the server's major version (Debian: apt install postgresql-client-15), or name their folder with --pg-bin", p.name, where)
		}
		*p.to = found
	}
	return t, nil
}

// libpqParams are the connection parameters libpq — and so pg_dump and
// pg_restore — understands in a URL. pgx takes any other parameter as a
// run-time setting (search_path), which libpq refuses.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true,
	"keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "gssencmode": true, "sslmode": true, "requiressl": true,
	"sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true,
	"sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true, "krbsrvname": true,
	"gsslib": true, "service": true, "target_session_attrs": true, "load_balance_hosts": true,
}

// pgConn is a database URL as the PostgreSQL programs take it: without the
// password, which goes in PGPASSWORD rather than on a command line anyone
// on the host can read, and without pgx's run-time settings. Schema is the
// first schema of the URL's search_path, "" without one.
type pgConn struct {
	url, password, schema string
}

func parsePGConn(dsn string) (pgConn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgConn{}, errors.New("the PostgreSQL URL cannot be parsed: expected postgres://user:password@host:5432/dbname")
	}
	var c pgConn
	if u.User != nil {
		c.password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		first, _, _ := strings.Cut(sp, ",")
		c.schema = strings.Trim(strings.TrimSpace(first), `"`)
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	c.url = u.String()
	return c, nil
}

// pgSetup finds the programs and reads the URL they are to connect with.
func pgSetup(bin, dsn string) (pgTools, pgConn, error) {
	tools, err := findPGTools(bin)
	if err != nil {
		return tools, pgConn{}, err
	}
	conn, err := parsePGConn(dsn)
	return tools, conn, err
}

// run runs a PostgreSQL program with the connection's password, passing
// each line it writes to stderr to line (its --verbose progress), and
// returns its first error line when it fails.
func (c pgConn) run(ctx context.Context, program string, args []string, stdout io.Writer, line func(string)) error {
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = cmd.Environ()
	if c.password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+c.password)
	}
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", program, err)
	}
	var first string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if first == "" && (strings.Contains(l, "error:") || strings.Contains(l, "FATAL") || strings.Contains(l, "ERROR")) {
			first = l
		}
		if line != nil {
			line(l)
		}
	}
	io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if first == "" {
			first = err.Error()
		}
		return fmt.Errorf("%s failed: %s", filepath.Base(program), strings.TrimSpace(first))
	}
	return nil
}

// pgDump writes schema's part of the database, as the exported snapshot
// saw it, to file in pg_dump's custom format, reporting the tables dumped.
func (c pgConn) pgDump(ctx context.Context, t pgTools, snapshot, schema, file string, tables int64, progress Progress) error {
	args := []string{"--format=custom", "--no-password", "--verbose", "--snapshot=" + snapshot,
		"--schema=" + quoteIdent(schema), "--file=" + file, "--dbname=" + c.url}
	return c.run(ctx, t.dump, args, nil, countTables("dumping contents of table", tables, progress))
}

// countTables reports a program's progress through the tables from the
// lines of its --verbose output that contain marker.
func countTables(marker string, tables int64, progress Progress) func(line string) {
	var done int64
	progress.report(StepDatabaseTables, 0, tables)
	return func(l string) {
		if strings.Contains(l, marker) {
			done++
			progress.report(StepDatabaseTables, min(done, tables), tables)
		}
	}
}

// schemaEntry is a line of pg_restore --list naming the schema itself, or
// its comment or privileges: restore creates the schema first (public
// exists in every new database), so these are left out.
var schemaEntry = regexp.MustCompile(`^\d+; \d+ \d+ (SCHEMA - |(COMMENT|ACL) - SCHEMA )`)

// pgRestore restores the archive file into the database in one
// transaction, so that a failure leaves nothing half-restored, reporting
// the tables restored.
func (c pgConn) pgRestore(ctx context.Context, t pgTools, file string, tables int64, progress Progress) error {
	var toc strings.Builder
	if err := c.run(ctx, t.restore, []string{"--list", file}, &toc, nil); err != nil {
		return err
	}
	list, err := os.CreateTemp("", "yiwang-restore-*.list")
	if err != nil {
		return err
	}
	defer os.Remove(list.Name())
	for l := range strings.Lines(toc.String()) {
		if !schemaEntry.MatchString(l) {
			list.WriteString(l)
		}
	}
	if err := list.Close(); err != nil {
		return err
	}
	args := []string{"--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password",
		"--verbose", "--use-list=" + list.Name(), "--dbname=" + c.url, file}
	return c.run(ctx, t.restore, args, nil, countTables("processing data for table", tables, progress))
}
