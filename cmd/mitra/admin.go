package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
)

// adminCmd: mitra admin create --email E --password P [--role R] [--name N].
func adminCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: mitra admin create --email E --password P [--role super_admin|admin] [--name N]"
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageError{usage}
	}
	var email, password, role, name string
	cfg, _, help, err := loadConfig("admin create", getenv, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the administrator's email")
		fs.StringVar(&password, "password", "", "the administrator's password (or MITRA_ADMIN_PASSWORD)")
		fs.StringVar(&role, "role", "admin", "admin or super_admin")
		fs.StringVar(&name, "name", "Administrator", "display name")
	})
	if help || err != nil {
		return err
	}
	if password == "" {
		password = getenv("MITRA_ADMIN_PASSWORD")
	}
	if email == "" || password == "" {
		return usageError{usage}
	}
	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.auth.CreateAdmin(ctx, email, password, name, access.Role(role))
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, *u.Email, u.ID)
	return nil
}

// keysCmd: mitra keys rotate.
func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: mitra keys rotate"
	if len(args) == 0 || args[0] != "rotate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageError{usage}
	}
	cfg, _, help, err := loadConfig("keys rotate", getenv, args[1:], stderr, nil)
	if help || err != nil {
		return err
	}
	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	kid, err := a.auth.Keys.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing key %s; earlier keys verify until their tokens expire\n", kid)
	return nil
}

// explain turns a domain error into a message for the terminal.
func explain(err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s %s", strings.TrimPrefix(f.Location, "body."), f.Message)
	}
	return usageError{b.String()}
}
