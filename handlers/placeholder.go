package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/views"
)

// Placeholders renders the console sections that are not built yet, saying
// so plainly instead of pretending.
type Placeholders struct {
	Base
}

// Placeholder returns a handler for one unbuilt section.
func (h Placeholders) Placeholder(section, title, body string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return Render(c, http.StatusOK, views.PlaceholderPage(views.PlaceholderProps{
			Page:    h.Page(c, title, section),
			Heading: title,
			Body:    body,
		}))
	}
}
