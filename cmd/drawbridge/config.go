package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/web"
)

// configFlags are the flags every subcommand that needs the database takes.
type configFlags struct {
	file       string
	address    string
	consoleURL string
	dataDir    string
	logLevel   string
	demo       bool
	demoAddr   string
}

func (f *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "config", "", "YAML configuration `file`")
	fs.StringVar(&f.address, "address", "", "listen `address`, e.g. :8080 (server.address)")
	fs.StringVar(&f.consoleURL, "console-url", "", "public `URL` of the console (server.console_url)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data `directory` for the database and keys (server.data_dir)")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (log.level)")
	fs.BoolVar(&f.demo, "demo", false, "also start the demo MCP server on loopback (server.demo)")
	fs.StringVar(&f.demoAddr, "demo-address", "", "loopback `address` of the demo MCP server (server.demo_address)")
}

// envSetters maps each DRAWBRIDGE_* variable that configures the server to
// the key it sets. Secrets and the first admin's password are read where
// they are used (keys.go, bootstrap.go) and listed in otherEnv.
var envSetters = map[string]func(*web.Config, string) error{
	"DRAWBRIDGE_ADDRESS":         func(c *web.Config, v string) error { c.Server.Address = v; return nil },
	"DRAWBRIDGE_CONSOLE_URL":     func(c *web.Config, v string) error { c.Server.ConsoleURL = v; return nil },
	"DRAWBRIDGE_DATA_DIR":        func(c *web.Config, v string) error { c.Server.DataDir = v; return nil },
	"DRAWBRIDGE_DEMO":            func(c *web.Config, v string) error { return parseBool(v, &c.Server.Demo) },
	"DRAWBRIDGE_DEMO_ADDRESS":    func(c *web.Config, v string) error { c.Server.DemoAddress = v; return nil },
	"DRAWBRIDGE_TRUSTED_PROXIES": func(c *web.Config, v string) error { c.Server.TrustedProxies = splitList(v); return nil },
	"DRAWBRIDGE_DATABASE_DRIVER": func(c *web.Config, v string) error { c.Database.Driver = v; return nil },
	"DRAWBRIDGE_DATABASE_DSN":    func(c *web.Config, v string) error { c.Database.DSN = v; return nil },
	"DRAWBRIDGE_ADMINS":          func(c *web.Config, v string) error { c.Admins = splitList(v); return nil },
	"DRAWBRIDGE_AUDITORS":        func(c *web.Config, v string) error { c.Auditors = splitList(v); return nil },
	"DRAWBRIDGE_LOG_LEVEL":       func(c *web.Config, v string) error { c.Log.Level = v; return nil },
	"DRAWBRIDGE_LOG_FORMAT":      func(c *web.Config, v string) error { c.Log.Format = v; return nil },
	"DRAWBRIDGE_AUDIT_STREAM":    func(c *web.Config, v string) error { c.Audit.Stream = v; return nil },
	"DRAWBRIDGE_LOCAL_ACCOUNTS": func(c *web.Config, v string) error {
		var b bool
		c.Identity.LocalAccounts = &b
		return parseBool(v, &b)
	},
	"DRAWBRIDGE_SESSION_IDLE_TIMEOUT": func(c *web.Config, v string) error {
		return parseDuration(v, &c.Identity.Session.IdleTimeout)
	},
	"DRAWBRIDGE_SESSION_ABSOLUTE_TIMEOUT": func(c *web.Config, v string) error {
		return parseDuration(v, &c.Identity.Session.AbsoluteTimeout)
	},
	"DRAWBRIDGE_OAUTH_ACCESS_TOKEN_TTL": func(c *web.Config, v string) error {
		return parseDuration(v, &c.OAuth.AccessTokenTTL)
	},
	"DRAWBRIDGE_OAUTH_REFRESH_TOKEN_TTL": func(c *web.Config, v string) error {
		return parseDuration(v, &c.OAuth.RefreshTokenTTL)
	},
	"DRAWBRIDGE_OAUTH_ALLOW_PRIVATE_CLIENT_METADATA": func(c *web.Config, v string) error {
		return parseBool(v, &c.OAuth.AllowPrivateClientMetadata)
	},
}

// otherEnv are DRAWBRIDGE_* variables read outside the Config, or, like
// the service-account token the portal's client snippets export, set
// beside it in a user's shell and never read at all.
var otherEnv = map[string]bool{
	envAdminPassword:                 true,
	envSessionKey:                    true,
	envSigningKey:                    true,
	envEncryptionKey:                 true,
	"DRAWBRIDGE_SERVICE_ACCOUNT_JWT": true,
}

// loadConfig builds the Config: defaults, then the file, then the
// environment, then flags. Every problem is reported at once, with the file
// line where there is one.
func loadConfig(f configFlags, env environment) (web.Config, error) {
	cfg := web.DefaultConfig()
	var lines map[string]int
	if f.file != "" {
		var err error
		if lines, err = readConfigFile(f.file, env, &cfg); err != nil {
			return cfg, err
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	applyFlags(&cfg, f)
	if err := cfg.Validate(); err != nil {
		var ps web.Problems
		if errors.As(err, &ps) && f.file != "" {
			return cfg, withLines(ps, f.file, lines)
		}
		return cfg, err
	}
	return cfg, nil
}

// readConfigFile decodes path strictly into cfg (unknown keys are errors)
// and returns the line of every key, for error messages. ${VAR} in a
// value is replaced from env, as in the rest of a declarative file
// (declfile_env.go). The file may also hold routes, policies and apps,
// which `apply` and `serve --config` read (declfile.go), not this.
func readConfigFile(path string, env environment, cfg *web.Config) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := checkConfigKeys(data); err != nil {
		return nil, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var envProblems []string
	if top := configRoot(&root); top != nil {
		for i := 0; i+1 < len(top.Content); i += 2 {
			if slices.Contains(serverKeys, top.Content[i].Value) {
				expandNode(top.Content[i+1], env, func(n *yaml.Node, msg string) {
					envProblems = append(envProblems, fmt.Sprintf("%s:%d: %s", path, n.Line, msg))
				})
			}
		}
	}
	if len(envProblems) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %s", strings.Join(envProblems, "\n  "))
	}
	if root.Kind != 0 { // an empty file sets nothing
		if err := root.Decode(cfg); err != nil {
			return nil, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	lines := map[string]int{}
	collectLines(&root, "", lines)
	return lines, nil
}

// configFileKeys is every key a config file may have at the top: the
// server's settings, and the objects a declarative file defines, left
// as they are.
type configFileKeys struct {
	web.Config        `yaml:",inline"`
	UpstreamOAuthApps yaml.Node `yaml:"upstream_oauth_apps"`
	Policies          yaml.Node `yaml:"policies"`
	Routes            yaml.Node `yaml:"routes"`
	Policy            yaml.Node `yaml:"policy"` // Pomerium's older word for routes
}

// checkConfigKeys reports the keys of data that no setting has. Values
// are decoded later, once ${VAR}s are replaced, so only unknown keys
// count here: `demo: ${DEMO}` is not yet a boolean.
func checkConfigKeys(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var keys configFileKeys
	err := dec.Decode(&keys)
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	var unknown []string
	for _, msg := range te.Errors {
		if strings.Contains(msg, " not found in type ") {
			unknown = append(unknown, msg)
		}
	}
	if len(unknown) > 0 {
		return &yaml.TypeError{Errors: unknown}
	}
	return nil
}

// configRoot returns the top-level mapping of a parsed config file, or
// nil if it is empty.
func configRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		return doc.Content[0]
	}
	return nil
}

// collectLines records the line of every mapping key and sequence item
// under n, keyed by dotted path (identity.oidc[0].issuer).
func collectLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			collectLines(c, path, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			lines[key] = n.Content[i].Line
			collectLines(n.Content[i+1], key, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			key := fmt.Sprintf("%s[%d]", path, i)
			lines[key] = c.Line
			collectLines(c, key, lines)
		}
	}
}

// withLines prefixes each problem with file:line, using the nearest key
// that the file actually has.
func withLines(ps web.Problems, file string, lines map[string]int) error {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		loc := file
		for key := p.Key; key != ""; key = parentKey(key) {
			if line, ok := lines[key]; ok {
				loc = fmt.Sprintf("%s:%d", file, line)
				break
			}
		}
		msgs[i] = fmt.Sprintf("%s: %s: %s", loc, p.Key, p.Message)
	}
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(msgs, "\n  "))
}

func parentKey(key string) string {
	if i := strings.LastIndexAny(key, ".["); i > 0 {
		return key[:i]
	}
	return ""
}

// applyEnv sets every DRAWBRIDGE_* variable present. An unknown one is an
// error, so a typo never silently leaves a default in place.
func applyEnv(cfg *web.Config, env environment) error {
	var problems []string
	for _, name := range env.names() {
		if !strings.HasPrefix(name, "DRAWBRIDGE_") || otherEnv[name] {
			continue
		}
		set, ok := envSetters[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unknown variable (known: %s)", name, knownEnv()))
			continue
		}
		if err := set(cfg, env.get(name)); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("invalid environment:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func knownEnv() string {
	names := make([]string, 0, len(envSetters)+len(otherEnv))
	for n := range envSetters {
		names = append(names, n)
	}
	for n := range otherEnv {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func applyFlags(cfg *web.Config, f configFlags) {
	if f.address != "" {
		cfg.Server.Address = f.address
	}
	if f.consoleURL != "" {
		cfg.Server.ConsoleURL = f.consoleURL
	}
	if f.dataDir != "" {
		cfg.Server.DataDir = f.dataDir
	}
	if f.logLevel != "" {
		cfg.Log.Level = f.logLevel
	}
	if f.demo {
		cfg.Server.Demo = true
	}
	if f.demoAddr != "" {
		cfg.Server.DemoAddress = f.demoAddr
	}
}

func parseBool(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("must be true or false, got %q", v)
	}
	*dst = b
	return nil
}

func parseDuration(v string, dst *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("must be a duration like 30m or 8h, got %q", v)
	}
	*dst = d
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
