package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"yiwang/internal/catalog"
)

const catalogSummary = `Work with the service catalogue (事项库).

  yiwang catalog validate DIR      check every file; print problems as file:line:col: message`

func catalogCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: yiwang catalog SUBCOMMAND [options]\n\n%s\n", catalogSummary)
		if len(args) == 0 {
			return usageError{fmt.Errorf("name a subcommand: validate")}
		}
		return nil
	}
	switch args[0] {
	case "validate":
		return catalogValidate(args[1:], stdout)
	}
	return usageError{fmt.Errorf("unknown subcommand %q; run 'yiwang catalog --help'", args[0])}
}

// loadCatalogue validates the folder and prints its problems.
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
	for _, p := range problems {
		p.File = dir + string(os.PathSeparator) + p.File
		fmt.Fprintln(out, p)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%d problem(s) in %s", len(problems), dir)
	}
	return c, nil
}

func catalogValidate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("catalog validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintln(stdout, "Usage: yiwang catalog validate DIR\n\nCheck a catalogue folder against the item schema and the semantic rules.\nPrints each problem as file:line:col: message and exits 1 if there are any.")
			return err
		}
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("give exactly one catalogue folder, e.g. yiwang catalog validate catalog/")}
	}
	c, err := loadCatalogue(fs.Arg(0), stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok — %d items, %d departments, %d licence types\n", fs.Arg(0), len(c.Items), len(c.Departments), len(c.Licences))
	return nil
}
