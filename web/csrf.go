package web

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"
)

const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

// csrf refuses state-changing requests that do not carry the session's
// token, and any that the browser says came from another origin.
//
// The token is bound to the session cookie rather than a cookie of its
// own: route hosts share a parent domain with the console and may run
// other people's apps, which could plant a double-submit cookie.
func csrf(sessions *Sessions) echo.MiddlewareFunc {
	origin := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			if err := origin.Check(r); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, "This request came from another site and was refused.")
			}
			sent := r.Header.Get(csrfHeader)
			if sent == "" {
				sent = c.FormValue(csrfField)
			}
			want := sessions.CSRFToken(c)
			if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
				return echo.NewHTTPError(http.StatusForbidden, "This form has expired or was not sent from Drawbridge. Go back, reload the page and try again.")
			}
			return next(c)
		}
	}
}
