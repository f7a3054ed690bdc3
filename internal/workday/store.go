package workday

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/store"
)

// RefreshEvery is how old the calendar a Store hands out may get before it
// re-reads the database, so that a year loaded through another yiwang
// process sharing the database takes effect here too. In the process that
// loads a year it takes effect at once.
const RefreshEvery = 30 * time.Second

// Store joins the embedded years and the years administrators loaded into
// the database (which replace embedded ones of the same year) into one
// Calendar. It is safe for concurrent use: readers get an immutable Calendar,
// and loading a year swaps in a new one in a single step, so nobody sees a
// year half replaced.
type Store struct {
	db       *store.DB
	embedded []Year
	now      func() time.Time
	onLoad   []Recount

	mu   sync.Mutex // serialises re-reads and loads
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	cal    *Calendar
	readAt time.Time
}

// NewStore reads the calendar: the embedded years and the loaded ones. It
// fails if a stored year no longer passes the checks, naming it, rather than
// starting without it.
func NewStore(ctx context.Context, db *store.DB) (*Store, error) {
	embedded, err := Embedded()
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, embedded: embedded, now: time.Now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Calendar returns the current calendar, re-reading the database first when
// the one in hand is older than RefreshEvery.
func (s *Store) Calendar(ctx context.Context) (*Calendar, error) {
	if sn := s.snap.Load(); s.now().Sub(sn.readAt) < RefreshEvery {
		return sn.cal, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn := s.snap.Load(); s.now().Sub(sn.readAt) < RefreshEvery {
		return sn.cal, nil // another caller re-read it meanwhile
	}
	return s.reload(ctx)
}

// Year returns one year's arrangement, or an apperr.NotFound error that says
// which years there are and how to load another.
func (s *Store) Year(ctx context.Context, year int) (Year, error) {
	cal, err := s.Calendar(ctx)
	if err != nil {
		return Year{}, err
	}
	y, ok := cal.Year(year)
	if !ok {
		return Year{}, apperr.New(apperr.NotFound, apperr.CalendarYearNotFound,
			"there is no working-day calendar for %d (there is for %s): an administrator loads it from the State Council's notice",
			year, knownYears(cal))
	}
	return y, nil
}

// Recount is run inside the transaction that loads a year, given the
// calendar before and after the load, to count again the deadlines that were
// counted provisionally; its error undoes the load, so that no deadline stays
// provisional behind a loaded year.
type Recount func(ctx context.Context, tx *sql.Tx, before, after *Calendar) error

// OnLoad adds f to what Load runs. Call it while setting up, before the
// store is shared.
func (s *Store) OnLoad(f Recount) { s.onLoad = append(s.onLoad, f) }

// Load checks a year's notice and stores it, replacing what there was for
// that year (embedded or loaded before); it takes effect in this process at
// once. by names who loaded it. A notice with problems changes nothing, and
// the error lists every problem.
func (s *Store) Load(ctx context.Context, n Notice, by string) (Year, error) {
	y, err := n.Parse()
	if err != nil {
		return Year{}, err
	}
	if by == "" {
		return Year{}, fmt.Errorf("load calendar %d: say who loads it", y.Year)
	}
	clean := y.Notice()
	holidays, err := json.Marshal(clean.Holidays)
	if err != nil {
		return Year{}, err
	}
	makeUp, err := json.Marshal(clean.MakeUpDays)
	if err != nil {
		return Year{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before, err := s.reload(ctx)
	if err != nil {
		return Year{}, err
	}
	after, err := before.with(y)
	if err != nil {
		return Year{}, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_years (year, source, holidays, make_up_days, loaded_by, loaded_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (year) DO UPDATE SET source = excluded.source, holidays = excluded.holidays,
			make_up_days = excluded.make_up_days, loaded_by = excluded.loaded_by, loaded_at = excluded.loaded_at`,
			y.Year, y.Source, string(holidays), string(makeUp), by, s.now().UTC()); err != nil {
			return fmt.Errorf("store calendar %d: %w", y.Year, err)
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(by), Action: "config.calendar_load", ObjectKind: "calendar_year",
			ObjectID: strconv.Itoa(y.Year), Detail: map[string]any{"source": y.Source}}); err != nil {
			return err
		}
		for _, f := range s.onLoad {
			if err := f(ctx, tx, before, after); err != nil {
				return fmt.Errorf("count deadlines again with calendar %d: %w", y.Year, err)
			}
		}
		return nil
	})
	if err != nil {
		return Year{}, err
	}
	cal, err := s.reload(ctx)
	if err != nil {
		return Year{}, err
	}
	stored, _ := cal.Year(y.Year)
	return stored, nil
}

// reload reads the loaded years and swaps in a new calendar. The caller
// holds s.mu.
func (s *Store) reload(ctx context.Context) (*Calendar, error) {
	readAt := s.now()
	years := map[int]Year{}
	for _, y := range s.embedded {
		years[y.Year] = y
	}
	loaded, err := store.All(ctx, s.db, func(row store.Scanner) (Year, error) {
		var n Notice
		var holidays, makeUp, by string
		var at time.Time
		if err := row.Scan(&n.Year, &n.Source, &holidays, &makeUp, &by, &at); err != nil {
			return Year{}, fmt.Errorf("read the working-day calendar: %w", err)
		}
		y, err := storedYear(n, holidays, makeUp)
		if err != nil {
			return Year{}, fmt.Errorf("the working-day calendar for %d in the database is damaged; load it again from the notice: %w", n.Year, err)
		}
		at = at.UTC()
		y.Origin, y.LoadedBy, y.LoadedAt = OriginLoaded, by, &at
		return y, nil
	}, `SELECT year, source, holidays, make_up_days, loaded_by, loaded_at FROM calendar_years ORDER BY year`)
	if err != nil {
		return nil, fmt.Errorf("read the working-day calendar: %w", err)
	}
	for _, y := range loaded {
		years[y.Year] = y
	}
	list := make([]Year, 0, len(years))
	for _, y := range years {
		list = append(list, y)
	}
	cal, err := NewCalendar(list...)
	if err != nil {
		return nil, err
	}
	s.snap.Store(&snapshot{cal: cal, readAt: readAt})
	return cal, nil
}

func storedYear(n Notice, holidays, makeUp string) (Year, error) {
	if err := json.Unmarshal([]byte(holidays), &n.Holidays); err != nil {
		return Year{}, err
	}
	if err := json.Unmarshal([]byte(makeUp), &n.MakeUpDays); err != nil {
		return Year{}, err
	}
	return n.Parse()
}
