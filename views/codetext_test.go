package views

import (
	"bytes"
	"context"
	"reflect"
	"testing"
)

func TestBacktickParts(t *testing.T) {
	tests := []struct {
		in   string
		want []textPart
	}{
		{"unknown criterion `emial`; did you mean `email`?", []textPart{
			{Text: "unknown criterion "}, {Text: "emial", Code: true}, {Text: "; did you mean "}, {Text: "email", Code: true}, {Text: "?"},
		}},
		{"`mcp_tool` first", []textPart{{Text: "mcp_tool", Code: true}, {Text: " first"}}},
		{"no quotes at all", []textPart{{Text: "no quotes at all"}}},
		// A lone backtick is text, and so is an empty pair.
		{"odd ` one", []textPart{{Text: "odd ` one"}}},
		{"`a` and ` b", []textPart{{Text: "a", Code: true}, {Text: " and ` b"}}},
		{"empty `` pair", []textPart{{Text: "empty `` pair"}}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := backtickParts(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("backtickParts(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCodeTextEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := codeText("bad `<script>` & `a&b` <i>").Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	want := "bad <code>&lt;script&gt;</code> &amp; <code>a&amp;b</code> &lt;i&gt;"
	if got := buf.String(); got != want {
		t.Errorf("codeText = %q, want %q", got, want)
	}
}
