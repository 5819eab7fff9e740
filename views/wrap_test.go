package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPathParts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/lib/drawbridge", "/|var/|lib/|drawbridge"},
		{"/var/lib/", "/|var/|lib/"},
		{"http://console.localhost:8080/admin", "http://|console.localhost:8080/|admin"},
		{"sqlite (/data/db.sqlite)", "sqlite (/|data/|db.sqlite)"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := strings.Join(pathParts(tt.in), "|"); got != tt.want {
			t.Errorf("pathParts(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmailParts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@company.com", "alice|@company|.com"},
		{"dana.fitz@eng.example.com", "dana|.fitz|@eng|.example|.com"},
		{"no-at-sign", "no-at-sign"},
		{"@leading", "@leading"},
	}
	for _, tt := range tests {
		if got := strings.Join(emailParts(tt.in), "|"); got != tt.want {
			t.Errorf("emailParts(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrapAtEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := wrapAt([]string{"<a>/", "b&c"}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "&lt;a&gt;/<wbr>b&amp;c"; got != want {
		t.Errorf("wrapAt = %q, want %q", got, want)
	}
}
