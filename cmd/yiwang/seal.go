package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"yiwang/internal/config"
	"yiwang/internal/logging"
	"yiwang/internal/seal"
	"yiwang/internal/store"
)

const sealSummary = `List or rotate the departments' electronic seal keys (SM2).

  yiwang seal list
  yiwang seal rotate DEPT

rotate retires DEPT's key in use and makes a new one: licences issued from now
on carry the new key's id, and those sealed with the old key still verify (its
public key stays listed at /.well-known/yiwang-seal-keys.json). Private keys are
sealed under a subkey of the personal-data key (--data-key).`

func sealCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		fmt.Fprintf(stdout, "Usage: yiwang seal list | rotate DEPT [options]\n\n%s\n", sealSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError{fmt.Errorf("name the subcommand: list or rotate")}
	}
	sub := args[0]
	fs := flag.NewFlagSet("seal "+sub, flag.ContinueOnError)
	maxArgs := 0
	if sub == "rotate" {
		maxArgs = 1
	}
	cfg, rest, err := config.Parse(fs, "seal", sealSummary, args[1:], maxArgs, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if sub == "rotate" && len(rest) != 1 {
		return usageError{fmt.Errorf("name the department whose key to rotate, e.g. yiwang seal rotate amr")}
	}
	db, ring, err := openKeyring(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "rotate" {
		dept := rest[0]
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM departments WHERE code = $1`, dept).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return usageError{fmt.Errorf("no department %q: departments are declared in the catalogue's departments.yaml", dept)}
		}
		oldID, newID, err := ring.Rotate(ctx, dept)
		if err != nil {
			return err
		}
		if oldID == "" {
			oldID = "(none)"
		}
		fmt.Fprintf(stdout, "%s: retired %s, now sealing with %s\n", dept, oldID, newID)
		return nil
	}
	keys, err := ring.Keys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEPARTMENT\tKEY\tCREATED\tRETIRED")
	for _, k := range keys {
		retired := "-"
		if k.RetiredAt != nil {
			retired = k.RetiredAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Department, k.ID, k.CreatedAt.Format("2006-01-02 15:04"), retired)
	}
	return tw.Flush()
}

// openKeyring opens the migrated database and the seal keys in it, whose
// private halves are sealed under the data key.
func openKeyring(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.DB, *seal.Keyring, error) {
	db, _, err := openWithProtector(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	key, err := loadKey(cfg.DataKey, cfg.DataDir, logger)
	if err == nil {
		var ring *seal.Keyring
		if ring, err = seal.NewKeyring(db, key); err == nil {
			return db, ring, nil
		}
	}
	db.Close()
	return nil, nil, err
}
