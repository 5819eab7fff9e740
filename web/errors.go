package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// errorHandler is the one place errors become responses. It maps error
// kinds to status codes, logs what went wrong inside, and shows people a
// useful message, never a stack or SQL: an HTML page for browsers, JSON
// for everyone else.
func errorHandler(base handlers.Base, logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, msg := classify(err)
		if status >= 500 {
			logger.Error("request failed", "id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}

		var verr *models.ValidationError
		if wantsJSON(c.Request()) {
			body := map[string]any{"error": msg}
			if errors.As(err, &verr) {
				body["fields"] = verr.Fields
			}
			_ = c.JSON(status, body)
			return
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = handlers.Render(c, status, views.ErrorPage(views.ErrorProps{
			Page:    base.Page(c, http.StatusText(status), ""),
			Status:  status,
			Heading: heading(status),
			Message: msg,
		}))
	}
}

// classify returns the status and the message people may see.
func classify(err error) (int, string) {
	var he *echo.HTTPError
	var verr *models.ValidationError
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if msg == "" || msg == http.StatusText(he.Code) {
			msg = defaultMessage(he.Code)
		}
		return he.Code, msg
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, defaultMessage(http.StatusNotFound)
	case errors.Is(err, models.ErrConflict):
		return http.StatusConflict, "That conflicts with something that already exists."
	case errors.As(err, &verr):
		return http.StatusUnprocessableEntity, verr.Error()
	}
	return http.StatusInternalServerError, defaultMessage(http.StatusInternalServerError)
}

func heading(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Please sign in"
	case http.StatusRequestEntityTooLarge:
		return "Too much data"
	case http.StatusTooManyRequests:
		return "Slow down"
	case http.StatusBadRequest:
		return "This address is not quite right"
	case http.StatusUnprocessableEntity:
		return "Check what was sent"
	case http.StatusMethodNotAllowed:
		return "Not at this address"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "There is nothing at this address. Check the link, or go back to the start."
	case http.StatusForbidden:
		return "Your account is not allowed to open this page. Ask an administrator if you need access."
	case http.StatusRequestEntityTooLarge:
		return "The request was larger than Drawbridge accepts. Nothing was saved."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	}
	if status >= 500 {
		return "Drawbridge could not finish this request. Nothing you did caused it; the error has been logged with the request ID below."
	}
	return http.StatusText(status)
}

// wantsJSON reports whether the client prefers JSON to HTML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}
