package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"yiwang/internal/catalog"
	"yiwang/internal/config"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
)

const catalogSummary = `Work with the service catalogue (事项库).

  yiwang catalog validate DIR              check a folder; print problems as file:line:col: message
  yiwang catalog import DIR                validate, then store every changed item as a draft version
  yiwang catalog publish CODE [VERSION]    publish a draft (default: the latest draft); --all for every draft
  yiwang catalog retire CODE               stop an item taking new applications
  yiwang catalog versions CODE             list an item's versions
  yiwang catalog diff CODE FROM TO         show what changed between two versions
  yiwang catalog list                      list the items in service

All but validate work on the database given by --db / --data-dir, as serve does.`

func catalogCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: yiwang catalog SUBCOMMAND [options] ARGS\n\n%s\n", catalogSummary)
		if len(args) == 0 {
			return usageError{errors.New("name a subcommand: validate, import, publish, retire, versions, diff or list")}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("catalog "+sub, flag.ContinueOnError)
	all := false
	if sub == "publish" {
		fs.BoolVar(&all, "all", false, "publish the latest draft of every item")
	}
	cfg, pos, err := config.Parse(fs, "catalog", catalogSummary, args, 3, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	need := map[string]int{"validate": 1, "import": 1, "retire": 1, "versions": 1, "diff": 3, "list": 0}
	if n, ok := need[sub]; ok && len(pos) != n {
		for _, p := range pos {
			if strings.HasPrefix(p, "-") {
				return usageError{fmt.Errorf("options go before arguments: yiwang catalog %s %s …", sub, p)}
			}
		}
		return usageError{fmt.Errorf("catalog %s takes %d argument(s); run 'yiwang catalog --help'", sub, n)}
	}
	if sub == "validate" {
		c, err := loadCatalogue(pos[0], stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok — %d items, %d departments, %d licence types", pos[0], len(c.Items), len(c.Departments), len(c.Licences))
		if len(c.Warnings) > 0 {
			fmt.Fprintf(stdout, ", %d warning(s)", len(c.Warnings))
		}
		fmt.Fprintln(stdout)
		return nil
	}
	if _, ok := need[sub]; !ok && sub != "publish" {
		return usageError{fmt.Errorf("unknown subcommand %q; run 'yiwang catalog --help'", sub)}
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	cs := catalog.NewStore(db)
	actor := "cli:" + osUser()
	switch sub {
	case "import":
		c, err := loadCatalogue(pos[0], stdout)
		if err != nil {
			return err
		}
		res, err := cs.Import(ctx, c, actor)
		if err != nil {
			return err
		}
		for _, r := range res.Created {
			fmt.Fprintf(stdout, "new draft   %s v%d %s\n", r.Code, r.Version, r.Name)
		}
		for _, r := range res.Updated {
			fmt.Fprintf(stdout, "draft redone %s v%d %s\n", r.Code, r.Version, r.Name)
		}
		fmt.Fprintf(stdout, "%d new draft(s), %d draft(s) updated, %d unchanged; publish with 'yiwang catalog publish CODE'\n", len(res.Created), len(res.Updated), res.Unchanged)
	case "publish":
		if all {
			refs, err := cs.PublishAllDrafts(ctx, actor)
			for _, r := range refs {
				fmt.Fprintf(stdout, "published %s v%d %s\n", r.Code, r.Version, r.Name)
			}
			if err == nil {
				fmt.Fprintf(stdout, "%d item(s) published\n", len(refs))
			}
			return err
		}
		if len(pos) < 1 || len(pos) > 2 {
			return usageError{errors.New("catalog publish takes CODE and an optional VERSION, or --all")}
		}
		v := 0
		if len(pos) == 2 {
			if v, err = positiveInt(pos[1], "VERSION"); err != nil {
				return err
			}
		}
		ref, err := cs.Publish(ctx, pos[0], v, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s v%d %s\n", ref.Code, ref.Version, ref.Name)
	case "retire":
		if err := cs.Retire(ctx, pos[0], actor); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "retired %s: it takes no new applications\n", pos[0])
	case "versions":
		vs, err := cs.Versions(ctx, pos[0])
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATUS\tIMPORTED\tBY\tPUBLISHED\tNAME")
		for _, v := range vs {
			pub := "-"
			if v.PublishedAt != nil {
				pub = v.PublishedAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.Status, v.ImportedAt.UTC().Format("2006-01-02 15:04"), v.ImportedBy, pub, v.NameZh)
		}
		tw.Flush()
	case "diff":
		from, err := positiveInt(pos[1], "FROM")
		if err != nil {
			return err
		}
		to, err := positiveInt(pos[2], "TO")
		if err != nil {
			return err
		}
		a, err := cs.Version(ctx, pos[0], from)
		if err != nil {
			return err
		}
		b, err := cs.Version(ctx, pos[0], to)
		if err != nil {
			return err
		}
		changes, err := catalog.Diff(a.Item, b.Item)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			switch {
			case ch.Old == nil:
				fmt.Fprintf(stdout, "+ %s: %v\n", ch.Path, ch.New)
			case ch.New == nil:
				fmt.Fprintf(stdout, "- %s: %v\n", ch.Path, ch.Old)
			default:
				fmt.Fprintf(stdout, "~ %s: %v → %v\n", ch.Path, ch.Old, ch.New)
			}
		}
		fmt.Fprintf(stdout, "%d change(s) from v%d to v%d\n", len(changes), from, to)
	case "list":
		vs, err := cs.Published(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tVERSION\tMODE\tDEPARTMENT\tNAME")
		for _, v := range vs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", v.ItemCode, v.Version, v.Item.Approval.Mode, v.Item.Department, v.Item.Name.Zh)
		}
		tw.Flush()
	}
	return nil
}

// openMigrated opens the configured database for a command that works on
// it, refusing one whose schema is not up to date.
func openMigrated(ctx context.Context, cfg config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	status, _, _, err := db.MigrationStatus(ctx)
	if err == nil && store.Pending(status) > 0 {
		err = fmt.Errorf("the database at %s is not migrated: run 'yiwang migrate' first", db.Where)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openWithProtector opens the migrated database together with the protector
// for personal data, for commands that read or write people's records.
func openWithProtector(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.DB, *pii.Protector, error) {
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	key, err := loadKey(cfg.DataKey, cfg.DataDir, logger)
	if err == nil {
		var protector *pii.Protector
		if protector, err = pii.NewProtector(key); err == nil {
			if err = pii.CheckFingerprint(ctx, db.DB, protector); err == nil {
				return db, protector, nil
			}
		}
	}
	db.Close()
	return nil, nil, err
}

// loadCatalogue validates the folder and prints its problems, then its
// warnings (which do not stop it).
func loadCatalogue(dir string, out io.Writer) (*catalog.Catalogue, error) {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: give the catalogue folder, e.g. catalog/", dir)
	}
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return nil, err
	}
	c, problems := schemas.LoadFS(os.DirFS(dir))
	if c != nil {
		// Rule expressions are type-checked against the item and the hub's
		// sources by the rules engine; its problems join the others.
		problems = append(problems, rules.CheckCatalogue(c)...)
		slices.SortFunc(problems, func(a, b catalog.Problem) int {
			return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), strings.Compare(a.Message, b.Message))
		})
	}
	var warnings []catalog.Problem
	if c != nil {
		warnings = c.Warnings
	}
	for _, p := range append(problems, warnings...) {
		p.File = dir + string(os.PathSeparator) + p.File
		fmt.Fprintln(out, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%d problem(s) in %s; nothing was changed", len(problems), dir)
	}
	return c, nil
}

func positiveInt(s, name string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usageError{fmt.Errorf("%s must be a version number (1, 2, …), not %q", name, s)}
	}
	return n, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
