package views

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const snippetURL = "http://github.localhost:8080/mcp"

func TestSnippetsExact(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"claude code", claudeCodeSnippet("github", snippetURL),
			"claude mcp add --transport http github http://github.localhost:8080/mcp"},
		{".mcp.json", mcpJSONSnippet("github", snippetURL), `{
  "mcpServers": {
    "github": {
      "type": "http",
      "url": "http://github.localhost:8080/mcp"
    }
  }
}`},
		{"codex", codexSnippet("github", snippetURL), `[mcp_servers.github]
url = "http://github.localhost:8080/mcp"
# then: codex mcp login github`},
		{"cursor", cursorSnippet("github", snippetURL), `{
  "mcpServers": {
    "github": {
      "url": "http://github.localhost:8080/mcp"
    }
  }
}`},
		{"vscode", vscodeSnippet("github", snippetURL), `{
  "servers": {
    "github": {
      "type": "http",
      "url": "http://github.localhost:8080/mcp"
    }
  }
}`},
		{"curl", curlSnippet(snippetURL), `curl -i -X POST http://github.localhost:8080/mcp \
  -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.name, tt.got, tt.want)
		}
	}
}

func TestServerSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"GitHub", "github"},
		{"GitHub Enterprise (prod)", "github-enterprise-prod"},
		{`Bob's "tools"`, "bob-s-tools"},
		{"  --Linear--  ", "linear"},
		{"Café Ünïcode Straße", "cafe-unicode-strasse"},
		{"日本語", "drawbridge"},
		{"", "drawbridge"},
		{"<script>alert(1)</script>", "script-alert-1-script"},
		{"a_b.c/d", "a-b-c-d"},
		{strings.Repeat("x", 80), strings.Repeat("x", 48)},
		{"\xff\xfeabc", "abc"},
	}
	for _, tt := range tests {
		got := serverSlug(tt.name)
		if got != tt.want {
			t.Errorf("serverSlug(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-") {
			t.Errorf("serverSlug(%q) = %q: not [a-z0-9-] between letters", tt.name, got)
		}
	}
}

// hostileURLs are values a snippet must carry through intact: whatever
// an admin typed, the pasted text means exactly it.
var hostileURLs = []string{
	snippetURL,
	"http://x.localhost:8080/mcp?a=1&b=2",
	`http://x.localhost/it's "quoted" <script>alert(1)</script>`,
	"http://x.localhost/$(rm -rf ~)`id`;|*?\\",
	"http://x.localhost/tab\there\nnewline",
	"http://x.localhost/ünïcode/日本",
}

// shellWords asks a real shell what words a line of shell text makes
// (see shellWordsWith).
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	return shellWordsWith(t, "", line)
}

func TestShellQuoteIsOneWord(t *testing.T) {
	for _, s := range append(hostileURLs, "", "'", "a b", "--flag") {
		got := shellWords(t, shellQuote(s))
		if len(got) != 1 || got[0] != s {
			t.Errorf("shellQuote(%q) = %s reads back as %q", s, shellQuote(s), got)
		}
	}
}

func TestClaudeCodeSnippetQuotesURL(t *testing.T) {
	for _, u := range hostileURLs {
		line := strings.TrimPrefix(claudeCodeSnippet("my-server", u), "claude ")
		want := []string{"mcp", "add", "--transport", "http", "my-server", u}
		if got := shellWords(t, line); !reflect.DeepEqual(got, want) {
			t.Errorf("URL %q: words %q", u, got)
		}
	}
}

func TestCurlSnippetQuotesURL(t *testing.T) {
	for _, u := range hostileURLs {
		line := strings.ReplaceAll(strings.TrimPrefix(curlSnippet(u), "curl "), "\\\n", "")
		got := shellWords(t, line)
		want := []string{"-i", "-X", "POST", u, "-H", "Content-Type: application/json", "-H", "Accept: application/json, text/event-stream",
			"-d", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("URL %q: words %q", u, got)
		}
	}
}

func TestJSONSnippetsCarryValues(t *testing.T) {
	for _, u := range hostileURLs {
		var doc struct {
			MCPServers map[string]struct{ Type, URL string } `json:"mcpServers"`
			Servers    map[string]struct{ Type, URL string } `json:"servers"`
		}
		for _, s := range []string{mcpJSONSnippet("srv", u), cursorSnippet("srv", u), vscodeSnippet("srv", u)} {
			doc.MCPServers, doc.Servers = nil, nil
			if err := json.Unmarshal([]byte(s), &doc); err != nil {
				t.Fatalf("invalid JSON %s: %v", s, err)
			}
			got := doc.MCPServers["srv"].URL + doc.Servers["srv"].URL
			if got != u {
				t.Errorf("URL %q came back as %q from\n%s", u, got, s)
			}
		}
	}
	// HTML is the page's business: a URL's "&" stays "&".
	if s := cursorSnippet("srv", "http://x/?a=1&b=2"); !strings.Contains(s, `"http://x/?a=1&b=2"`) {
		t.Errorf("& escaped in %s", s)
	}
}

// TOML's basic-string escapes are a subset of Go's, so a TOML string Go
// reads back the same is one TOML reads back the same.
func TestTOMLString(t *testing.T) {
	for _, s := range append(hostileURLs, "", `\`, "\x00\x1f\x7f", "é") {
		q := tomlString(s)
		got, err := strconv.Unquote(q)
		if err != nil || got != s {
			t.Errorf("tomlString(%q) = %s, reads back as %q (%v)", s, q, got, err)
		}
		if strings.ContainsAny(q[1:len(q)-1], "\n\r\x00") {
			t.Errorf("tomlString(%q) = %s holds a raw control character", s, q)
		}
	}
	for key, want := range map[string]string{"github": "github", "a_b-9": "a_b-9", "a.b": `"a.b"`, "": `""`} {
		if got := tomlKey(key); got != want {
			t.Errorf("tomlKey(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestCodexSnippetQuotesURL(t *testing.T) {
	for _, u := range hostileURLs {
		lines := strings.Split(codexSnippet("srv", u), "\n")
		if len(lines) != 3 || lines[0] != "[mcp_servers.srv]" || lines[2] != "# then: codex mcp login srv" {
			t.Fatalf("codex snippet for %q: %q", u, lines)
		}
		got, err := strconv.Unquote(strings.TrimPrefix(lines[1], "url = "))
		if err != nil || got != u {
			t.Errorf("URL %q came back as %q (%v)", u, got, err)
		}
	}
}

func TestSetupSnippetsUseTheSlug(t *testing.T) {
	for _, s := range setupSnippets(`GitHub "prod"`, snippetURL) {
		if s.Key != "curl" && !strings.Contains(s.Code, "github-prod") {
			t.Errorf("%s snippet does not name github-prod:\n%s", s.Key, s.Code)
		}
		if strings.Contains(s.Code, `"prod"`) {
			t.Errorf("%s snippet holds the raw name:\n%s", s.Key, s.Code)
		}
	}
}
