package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/config"
	"yiwang/internal/identity"
	"yiwang/internal/logging"
)

const tokenSummary = `Issue an API token for another government system.

  yiwang token create --system NAME --role ROLE --scope SCOPE [--days N]

Creates the system account NAME with ROLE if it does not exist, then issues a
token limited to SCOPE (repeat --scope for several). The token is printed once:
only its hash is kept. Revoke tokens through the administration API.`

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintf(stdout, "Usage: yiwang token create [options]\n\n%s\n", tokenSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError{fmt.Errorf("name the subcommand: create")}
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	system := fs.String("system", "", "name of the system account, e.g. province-catalogue-sync")
	role := fs.String("role", "", "role of the system account: "+rolesList())
	days := fs.Int("days", 365, "days until the token expires")
	var scopes []authz.Permission
	fs.Func("scope", "what the token may do: catalog:manage, org:manage or act_for_own (repeatable)", func(v string) error {
		scopes = append(scopes, authz.Permission(v))
		return nil
	})
	cfg, _, err := config.Parse(fs, "token", tokenSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if *system == "" || *role == "" || len(scopes) == 0 {
		return usageError{fmt.Errorf("give --system, --role and at least one --scope")}
	}
	for _, sc := range scopes {
		if !slices.Contains(authz.Scopes, sc) {
			return usageError{fmt.Errorf("%q is not a token scope; scopes are %v", sc, authz.Scopes)}
		}
	}
	if *days < 1 {
		return usageError{fmt.Errorf("--days must be at least 1")}
	}
	logger := logging.New(stderr, "text", 0)
	db, protector, err := openWithProtector(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	ids := identity.NewStore(db, protector)
	var accountID int64
	err = db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE username = $1 AND kind = 'system'`, *system).Scan(&accountID)
	if err != nil {
		a, err := ids.CreateSystem(ctx, *system, []authz.Role{authz.Role(*role)}, 0)
		if err != nil {
			return err
		}
		accountID = a.ID
		fmt.Fprintf(stdout, "created system account %s (id %d) with role %s\n", *system, a.ID, *role)
	} else if err := ids.GrantRole(ctx, accountID, authz.Role(*role), 0); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	secret, t, err := ids.IssueToken(ctx, accountID, *system, scopes, time.Now().AddDate(0, 0, *days), 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token %d for %s, scopes %v, expires %s:\n\n  %s\n\nSend it as 'Authorization: Bearer TOKEN'. It is not shown again.\n",
		t.ID, *system, t.Scopes, t.ExpiresAt.Format("2006-01-02"), secret)
	return nil
}

func rolesList() string {
	var r []string
	for _, x := range authz.Roles {
		r = append(r, string(x))
	}
	return strings.Join(r, ", ")
}
