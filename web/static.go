package web

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/static"
)

// staticHandler serves the embedded CSS, JS and icons. They change only
// with the binary, so browsers may keep them for an hour.
func staticHandler() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		name := c.Param("*")
		if _, err := fs.Stat(static.FS, name); err != nil || name == "" {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
