// Package static holds the console's own assets: the stylesheet, the small
// script that enhances pages (every page works without it), and the icon.
// The web package serves them under /static/.
package static

import "embed"

// FS holds app.css, app.js and favicon.svg at its root.
//
//go:embed app.css app.js favicon.svg
var FS embed.FS
