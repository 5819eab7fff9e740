package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

const serviceAccountUsage = `Usage: drawbridge service-account <command> [flags]

A service account lets a CI job or an agent call routes as one user, with
a token it sends as "Authorization: Bearer Drawbridge-<token>".

Commands:
  create  --user EMAIL --name NAME [--description TEXT] [--expires WHEN]
          [--routes NAME,NAME] [--quiet]
          make an account acting as the user, who must exist and be
          enabled, and print its token: once, it cannot be shown again
  list    [--user EMAIL] [--status active|expired|revoked] [--json]
  revoke  NAME|ID
          refuse the account's token from now on
  rotate  NAME|ID [--grace DURATION] [--quiet]
          print a new token, once; the old one keeps working for the
          grace (default 0: it stops at once)

--expires  never (the default), a number of days (30d, 90d, 365d, any Nd
           up to 3650d), or the last day the token works, YYYY-MM-DD: it
           expires at 00:00 UTC the day after
--routes   only these routes, by name; without it, every route the
           user's policies allow
--grace    a duration: 30m, 1h, 7d (at most 30d)
--quiet    print only the token and a newline, for TOKEN=$(…)

Examples:
  drawbridge service-account create --user ada@example.com --name nightly-ci --expires 90d
  TOKEN=$(drawbridge service-account create --user ada@example.com --name agent --routes GitHub --quiet)
  drawbridge service-account list --status active
  drawbridge service-account rotate nightly-ci --grace 1h
  drawbridge service-account revoke nightly-ci

A token names the console URL as its issuer (give these commands the same
--config as serve, so it says the right one); the gateway accepts it by
its hash while the account is live. Times are UTC. Every command also
takes --config, --data-dir and the other serve flags.
`

// maxDays caps --expires and --grace given in days; longer is "never".
const maxDays = 3650

// saArgs are a service-account command's flags and argument.
type saArgs struct {
	sub    string
	config configFlags
	target string // NAME|ID, for revoke and rotate

	// The flags; each subcommand registers those it takes.
	user, name, description string
	expires, routes         string
	status, grace           string
	quiet, json             bool
}

// serviceAccountCommand is `drawbridge service-account`.
func serviceAccountCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprint(sio.out, serviceAccountUsage)
			return flag.ErrHelp
		}
		fmt.Fprint(sio.err, serviceAccountUsage)
		return errors.New("service-account: a command is required: create, list, revoke or rotate")
	}
	a, err := parseServiceAccountArgs(args[0], args[1:], sio)
	if err != nil {
		return err
	}
	// Everything that can be checked without the database is, so that a
	// typo never creates a data directory.
	var expires time.Time
	var grace time.Duration
	switch a.sub {
	case "create":
		switch {
		case a.user == "":
			return errors.New("service-account create: --user is required: the email of the user the account acts as")
		case strings.TrimSpace(a.name) == "":
			return errors.New("service-account create: --name is required")
		}
		if expires, err = parseExpiry(a.expires, time.Now()); err != nil {
			return fmt.Errorf("service-account create: %w", err)
		}
	case "list":
		switch a.status {
		case "", models.ServiceAccountActive, models.ServiceAccountExpired, models.ServiceAccountRevoked:
		default:
			return fmt.Errorf("service-account list: --status %q: want active, expired or revoked", a.status)
		}
	case "rotate":
		if grace, err = parseGrace(a.grace); err != nil {
			return fmt.Errorf("service-account rotate: %w", err)
		}
	}

	b, err := openBackend(ctx, a.config, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx = models.WithActor(ctx, "command line")
	keys, err := token.NewKeySet(b.keys.Signing, b.keys.PreviousSigning...)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	// The issuer the gateway checks: web's newTokenKit uses the same.
	issuer, err := token.NewServiceAccountIssuer(keys, b.cfg.ConsoleBase())
	if err != nil {
		return err
	}
	sa := saCommand{store: b.store, issuer: issuer, issuerURL: b.cfg.ConsoleBase(), out: sio.out}
	switch a.sub {
	case "create":
		return sa.create(ctx, a, expires)
	case "list":
		return sa.list(ctx, a)
	case "revoke":
		return sa.revoke(ctx, a.target)
	default:
		return sa.rotate(ctx, a.target, grace, a.quiet)
	}
}

// parseServiceAccountArgs reads the flags of subcommand sub, and its one
// NAME|ID for revoke and rotate, before or after the flags. A bad flag is
// one line naming it; -h prints the help and returns flag.ErrHelp.
func parseServiceAccountArgs(sub string, args []string, sio stdio) (*saArgs, error) {
	a := &saArgs{sub: sub}
	fs := flag.NewFlagSet("service-account "+sub, flag.ContinueOnError)
	// The flag package would print the error and the whole usage; the one
	// line run returns says it, and -h shows the rest.
	fs.SetOutput(io.Discard)
	a.config.register(fs)
	switch sub {
	case "create":
		fs.StringVar(&a.user, "user", "", "`email` of the user the account acts as (required)")
		fs.StringVar(&a.name, "name", "", "the account's `name`, unique (required)")
		fs.StringVar(&a.description, "description", "", "what the account is for")
		fs.StringVar(&a.expires, "expires", "", "`when` the token stops working (default never; see above)")
		fs.StringVar(&a.routes, "routes", "", "comma-separated route `names` the account is limited to")
		fs.BoolVar(&a.quiet, "quiet", false, "print only the token")
	case "list":
		fs.StringVar(&a.user, "user", "", "only the accounts acting as the user with this `email`")
		fs.StringVar(&a.status, "status", "", "only the accounts in this `state`: active, expired or revoked")
		fs.BoolVar(&a.json, "json", false, "print a JSON array instead of a table")
	case "rotate":
		fs.StringVar(&a.grace, "grace", "", "how long the old token keeps working: 30m, 1h, 7d (default 0: it stops at once)")
		fs.BoolVar(&a.quiet, "quiet", false, "print only the new token")
	case "revoke":
	default:
		fmt.Fprint(sio.err, serviceAccountUsage)
		return nil, fmt.Errorf("service-account: unknown command %q: want create, list, revoke or rotate", sub)
	}
	var positional []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(sio.out, "%s\nFlags of %s:\n", serviceAccountUsage, sub)
			fs.SetOutput(sio.out)
			fs.PrintDefaults()
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("service-account %s: %v (drawbridge service-account %s -h lists its flags)", sub, err, sub)
		}
		if fs.NArg() == 0 {
			break
		}
		positional, args = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
	switch {
	case (sub == "revoke" || sub == "rotate") && len(positional) == 0:
		return nil, fmt.Errorf("service-account %s: which account? give its NAME or ID", sub)
	case (sub == "revoke" || sub == "rotate") && len(positional) > 1:
		return nil, fmt.Errorf("service-account %s: unexpected argument %q: give one account", sub, positional[1])
	case len(positional) > 0 && sub != "revoke" && sub != "rotate":
		return nil, fmt.Errorf("service-account %s: unexpected argument %q", sub, positional[0])
	case len(positional) == 1:
		a.target = positional[0]
	}
	return a, nil
}

// parseExpiry reads --expires at now: "" or never (the zero time), a
// number of days from now, or the last day the token works, which makes
// it expire at 00:00 UTC the day after.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "never") {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > maxDays {
			return time.Time{}, fmt.Errorf("--expires %q: a number of days is 1d to %dd; longer is never", s, maxDays)
		}
		// Whole seconds, as the token's exp is.
		return now.UTC().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second), nil
	}
	day, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--expires %q: want never, a number of days such as 90d, or a date YYYY-MM-DD", s)
	}
	end := day.AddDate(0, 0, 1)
	if !end.After(now) {
		return time.Time{}, fmt.Errorf("--expires %s: that day is over (in UTC); give a later one", s)
	}
	return end, nil
}

// parseGrace reads --grace: a Go duration, or a number of days, up to
// models.MaxRotationGrace (a rotation is how a leaked token is cut off).
func parseGrace(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	maxGraceDays := int(models.MaxRotationGrace / (24 * time.Hour))
	bad := fmt.Errorf("--grace %q: want a duration such as 30m, 1h or 7d (at most %dd)", s, maxGraceDays)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > maxGraceDays {
			return 0, bad
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > models.MaxRotationGrace {
		return 0, bad
	}
	return d, nil
}

// saCommand runs the service-account commands against an open store.
type saCommand struct {
	store     *models.Store
	issuer    *token.ServiceAccountIssuer
	issuerURL string
	out       io.Writer
}

func (c saCommand) create(ctx context.Context, a *saArgs, expires time.Time) error {
	u, err := c.store.GetUserByEmail(ctx, a.user)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("service-account create: --user: no user has the email %q", a.user)
	case err != nil:
		return err
	case u.Disabled:
		return fmt.Errorf("service-account create: --user: %s is disabled (drawbridge user disable --enable --email %s enables them)", u.Email, u.Email)
	}
	routes, names, err := c.routesNamed(ctx, a.routes)
	if err != nil {
		return err
	}
	acc := &models.ServiceAccount{Name: a.name, Description: a.description, UserID: u.ID, RouteIDs: routes}
	if !expires.IsZero() {
		acc.ExpiresAt = &expires
	}
	jwt, err := c.store.CreateServiceAccountWithToken(ctx, acc, func(id uint) (string, error) {
		raw, _, err := c.issuer.Issue(id, expires)
		return raw, err
	})
	if err != nil {
		return storeError("create", err)
	}
	if a.quiet {
		_, err := fmt.Fprintln(c.out, jwt)
		return err
	}
	fmt.Fprintf(c.out, "Created service account %q (id %d), acting as %s.\n", acc.Name, acc.ID, acc.UserEmail)
	if len(routes) == 0 {
		fmt.Fprintf(c.out, "Routes:   every route %s's policies allow\n", acc.UserEmail)
	} else {
		fmt.Fprintf(c.out, "Routes:   only %s\n", strings.Join(names, ", "))
	}
	if acc.ExpiresAt == nil {
		fmt.Fprintln(c.out, "Expires:  never (the default; --expires sets a limit)")
	} else {
		fmt.Fprintf(c.out, "Expires:  %s\n", utc(*acc.ExpiresAt))
	}
	return c.printToken(jwt)
}

// routesNamed looks up the comma-separated route names of --routes, and
// returns their IDs and names as stored.
func (c saCommand) routesNamed(ctx context.Context, list string) (ids []uint, names []string, err error) {
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		r, err := c.store.GetRouteByName(ctx, name)
		if errors.Is(err, models.ErrNotFound) {
			return nil, nil, fmt.Errorf("service-account create: --routes: no route is named %q", name)
		} else if err != nil {
			return nil, nil, err
		}
		ids, names = append(ids, r.ID), append(names, r.Name)
	}
	if len(ids) == 0 && strings.TrimSpace(list) != "" {
		return nil, nil, errors.New("service-account create: --routes: give route names separated by commas")
	}
	return ids, names, nil
}

// printToken shows a token once, with how to use it.
func (c saCommand) printToken(jwt string) error {
	_, err := fmt.Fprintf(c.out, `Issuer:   %s (informational: any Drawbridge on this database accepts the token while its account is live)

Token (shown once: Drawbridge keeps only its hash and cannot show it again):

  %s

Use it:
  export DRAWBRIDGE_SERVICE_ACCOUNT_JWT='%s'
  Authorization: Bearer %s${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}
`, c.issuerURL, jwt, jwt, token.ServiceAccountPrefix)
	return err
}

func (c saCommand) revoke(ctx context.Context, target string) error {
	acc, err := c.find(ctx, "revoke", target)
	if err != nil {
		return err
	}
	if acc.RevokedAt != nil {
		_, err := fmt.Fprintf(c.out, "Service account %q (id %d) was already revoked, at %s.\n", acc.Name, acc.ID, utc(*acc.RevokedAt))
		return err
	}
	if err := c.store.RevokeServiceAccount(ctx, acc.ID); err != nil {
		return storeError("revoke", err)
	}
	_, err = fmt.Fprintf(c.out, "Revoked service account %q (id %d, acting as %s): its token is refused from now on.\n",
		acc.Name, acc.ID, acc.UserEmail)
	return err
}

func (c saCommand) rotate(ctx context.Context, target string, grace time.Duration, quiet bool) error {
	acc, err := c.find(ctx, "rotate", target)
	if err != nil {
		return err
	}
	var expires time.Time
	switch now := time.Now(); {
	case acc.RevokedAt != nil:
		return fmt.Errorf("service-account rotate: %q is revoked, and a revoked account stays so: create a new one", acc.Name)
	case acc.ExpiresAt != nil && !now.Before(*acc.ExpiresAt):
		return fmt.Errorf("service-account rotate: %q expired at %s: create a new one", acc.Name, utc(*acc.ExpiresAt))
	case acc.ExpiresAt != nil:
		expires = *acc.ExpiresAt
	}
	jwt, _, err := c.issuer.Issue(acc.ID, expires)
	if err != nil {
		return err
	}
	if err := c.store.RotateServiceAccount(ctx, acc.ID, models.HashToken(jwt), grace); err != nil {
		return storeError("rotate", err)
	}
	if quiet {
		_, err := fmt.Fprintln(c.out, jwt)
		return err
	}
	fmt.Fprintf(c.out, "Rotated service account %q (id %d), acting as %s.\n", acc.Name, acc.ID, acc.UserEmail)
	if rotated, err := c.store.GetServiceAccount(ctx, acc.ID); err == nil && rotated.PreviousValidUntil != nil {
		fmt.Fprintf(c.out, "The previous token keeps working until %s (%s).\n", utc(*rotated.PreviousValidUntil), grace)
	} else {
		fmt.Fprintln(c.out, "The previous token stops working now.")
	}
	if acc.ExpiresAt != nil {
		fmt.Fprintf(c.out, "Expires:  %s, as before\n", utc(*acc.ExpiresAt))
	}
	return c.printToken(jwt)
}

// find returns the account named or numbered target.
func (c saCommand) find(ctx context.Context, sub, target string) (*models.ServiceAccount, error) {
	acc, err := c.store.FindServiceAccount(ctx, target)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("service-account %s: no service account is named or numbered %q (drawbridge service-account list shows them)", sub, target)
	}
	return acc, err
}

// storeError rewords the store's validation errors in terms of flags.
func storeError(sub string, err error) error {
	flagOf := func(field string) string {
		switch field {
		case "expires_at":
			return "--expires"
		case "name", "description", "user", "routes", "status":
			return "--" + field
		}
		return field
	}
	var v *models.ValidationError
	var c *models.ConflictError
	switch {
	case errors.As(err, &v):
		parts := make([]string, len(v.Fields))
		for i, f := range v.Fields {
			parts[i] = flagOf(f.Field) + " " + f.Message
		}
		return fmt.Errorf("service-account %s: %s", sub, strings.Join(parts, "; "))
	case errors.As(err, &c):
		return fmt.Errorf("service-account %s: %s %s", sub, flagOf(c.Field), c.Message)
	}
	return fmt.Errorf("service-account %s: %w", sub, err)
}

// utc is how the commands show a time.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// saJSON is an account as list --json prints it: never a token or a hash.
type saJSON struct {
	ID          uint   `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	User        string `json:"user"`
	Status      string `json:"status"`
	// Routes are the names of the only routes the account may use; with
	// RoutesRestricted false and none, it may use every route its user's
	// policies allow.
	Routes                  []string   `json:"routes"`
	RoutesRestricted        bool       `json:"routes_restricted"`
	ExpiresAt               *time.Time `json:"expires_at"` // null: never
	LastUsedAt              *time.Time `json:"last_used_at"`
	RevokedAt               *time.Time `json:"revoked_at"`
	PreviousTokenValidUntil *time.Time `json:"previous_token_valid_until"`
	CreatedBy               string     `json:"created_by"`
	CreatedAt               time.Time  `json:"created_at"`
}

func (c saCommand) list(ctx context.Context, a *saArgs) error {
	f := models.ServiceAccountFilter{Status: a.status}
	if a.user != "" {
		u, err := c.store.GetUserByEmail(ctx, a.user)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("service-account list: --user: no user has the email %q", a.user)
		} else if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	accounts, _, err := c.store.ListServiceAccounts(ctx, f)
	if err != nil {
		return storeError("list", err)
	}
	routes, _, err := c.store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return err
	}
	routeName := make(map[uint]string, len(routes))
	for _, r := range routes {
		routeName[r.ID] = r.Name
	}
	now := time.Now()
	rows := make([]saJSON, len(accounts))
	for i, acc := range accounts {
		names := make([]string, 0, len(acc.RouteIDs))
		for _, id := range acc.RouteIDs {
			names = append(names, routeName[id])
		}
		rows[i] = saJSON{
			ID: acc.ID, Name: acc.Name, Description: acc.Description, User: acc.UserEmail, Status: acc.Status(now),
			Routes: names, RoutesRestricted: acc.RoutesRestricted || len(acc.RouteIDs) > 0,
			ExpiresAt: acc.ExpiresAt, LastUsedAt: acc.LastUsedAt, RevokedAt: acc.RevokedAt,
			PreviousTokenValidUntil: acc.PreviousValidUntil, CreatedBy: acc.CreatedBy, CreatedAt: acc.CreatedAt,
		}
	}
	if a.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tUSER\tSTATUS\tEXPIRES\tLAST USED\tROUTES")
	for _, r := range rows {
		expires, used, routes := "never", "never", strings.Join(r.Routes, ", ")
		if r.ExpiresAt != nil {
			expires = utc(*r.ExpiresAt)
		}
		if r.LastUsedAt != nil {
			used = utc(*r.LastUsedAt)
		}
		switch {
		case !r.RoutesRestricted:
			routes = "all"
		case len(r.Routes) == 0:
			routes = "none (its routes were deleted)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.User, r.Status, expires, used, routes)
	}
	return tw.Flush()
}
