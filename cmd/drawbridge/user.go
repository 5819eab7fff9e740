package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/drawbridge/drawbridge/models"
)

const userUsage = `Usage: drawbridge user <command> [flags]

Commands:
  create        --email E [--name N] [--admin] [--password-stdin]
  set-password  --email E [--password-stdin]
  make-admin    --email E [--revoke]
  disable       --email E [--enable]
  list          [--query Q]

Without --password-stdin a strong password is generated and printed once.
Every command also takes --config, --data-dir and the other serve flags.
`

// userCommand manages users from the terminal, for the first admin and
// for scripts.
func userCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(sio.err, userUsage)
		return errors.New("user: a command is required")
	}
	sub, args := args[0], args[1:]
	var f configFlags
	fs := newFlagSet("user "+sub, sio.err)
	f.register(fs)
	email := fs.String("email", "", "the user's `email`")
	name := fs.String("name", "", "display `name` (create)")
	admin := fs.Bool("admin", false, "make the new user an administrator (create)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	revoke := fs.Bool("revoke", false, "take the administrator role away (make-admin)")
	enable := fs.Bool("enable", false, "enable instead of disable (disable)")
	query := fs.String("query", "", "only users whose email or name contains `text` (list)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if sub != "list" && *email == "" {
		return fmt.Errorf("user %s: --email is required", sub)
	}

	b, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	s := b.store
	ctx = models.WithActor(ctx, "command line")

	switch sub {
	case "create":
		pw, generated, err := readPassword(sio, *fromStdin)
		if err != nil {
			return err
		}
		hash, err := models.HashPassword(pw)
		if err != nil {
			return err
		}
		u := &models.User{Email: *email, Name: *name, IsAdmin: *admin, PasswordHash: hash, Provider: models.ProviderLocal}
		if err := s.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("user create: %w", err)
		}
		fmt.Fprintf(sio.out, "Created %s%s.\n", u.Email, map[bool]string{true: " (administrator)"}[u.IsAdmin])
		printPassword(sio, pw, generated)
	case "set-password":
		u, err := s.GetUserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("user set-password %s: %w", *email, err)
		}
		pw, generated, err := readPassword(sio, *fromStdin)
		if err != nil {
			return err
		}
		hash, err := models.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := s.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(sio.out, "Password changed for %s; their other sessions are signed out.\n", u.Email)
		printPassword(sio, pw, generated)
	case "make-admin":
		return withUser(ctx, s, *email, func(u *models.User) (string, error) {
			return map[bool]string{true: "is no longer an administrator", false: "is now an administrator"}[*revoke],
				s.SetAdmin(ctx, u.ID, !*revoke)
		}, sio)
	case "disable":
		return withUser(ctx, s, *email, func(u *models.User) (string, error) {
			return map[bool]string{true: "is enabled", false: "is disabled and signed out"}[*enable],
				s.SetDisabled(ctx, u.ID, !*enable)
		}, sio)
	case "list":
		return listUsers(ctx, s, *query, sio)
	default:
		fmt.Fprint(sio.err, userUsage)
		return fmt.Errorf("user: unknown command %q", sub)
	}
	return nil
}

func withUser(ctx context.Context, s *models.Store, email string, apply func(*models.User) (string, error), sio stdio) error {
	u, err := s.GetUserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	done, err := apply(u)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(sio.out, "%s %s.\n", u.Email, done)
	return err
}

func listUsers(ctx context.Context, s *models.Store, query string, sio stdio) error {
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tPROVIDER\tROLE\tSTATUS\tLAST SIGN-IN")
	for offset := 0; ; {
		users, total, err := s.ListUsers(ctx, models.UserFilter{Query: query, Offset: offset, Limit: 200})
		if err != nil {
			return err
		}
		for _, u := range users {
			role, status, last := "user", "active", "never"
			if u.IsAdmin {
				role = "admin"
			}
			if u.Disabled {
				status = "disabled"
			}
			if u.LastSignInAt != nil {
				last = u.LastSignInAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Provider, role, status, last)
		}
		offset += len(users)
		if len(users) == 0 || int64(offset) >= total {
			break
		}
	}
	return tw.Flush()
}

// readPassword reads one line from stdin, or generates a password.
func readPassword(sio stdio, fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return rand.Text(), true, nil
	}
	line, err := bufio.NewReader(sio.in).ReadString('\n')
	if err != nil && line == "" {
		return "", false, errors.New("--password-stdin: nothing on stdin")
	}
	pw = strings.TrimRight(line, "\r\n")
	if err := models.ValidatePassword(pw); err != nil {
		return "", false, fmt.Errorf("password: %w", err)
	}
	return pw, false, nil
}

func printPassword(sio stdio, pw string, generated bool) {
	if generated {
		fmt.Fprintf(sio.out, "Password (shown once): %s\n", pw)
	}
}
