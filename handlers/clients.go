package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// ClientStore is what the Clients pages need of the store.
type ClientStore interface {
	ListOAuthClients(ctx context.Context, f models.OAuthClientFilter) ([]models.OAuthClient, int64, error)
	GetOAuthClientByID(ctx context.Context, id uint) (*models.OAuthClient, error)
	DisableOAuthClient(ctx context.Context, id uint, disabled bool) error
	DeleteOAuthClient(ctx context.Context, id uint) error
	RevokeClientTokens(ctx context.Context, clientID string, userID *uint, now time.Time) (int64, error)
	CountActiveTokens(ctx context.Context, clientID string, now time.Time) (int64, error)
	GetSettings(ctx context.Context) (models.Settings, error)
	UpdateSettings(ctx context.Context, next models.Settings) error
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
}

// Clients lets admins see the MCP clients of the authorization server,
// take their tokens away, turn them off, delete them, and decide which
// clients may introduce themselves.
type Clients struct {
	Base
	Store ClientStore
	Now   func() time.Time // time.Now when nil
}

// NewClients builds the Clients handlers.
func NewClients(base Base, store ClientStore) *Clients {
	return &Clients{Base: base, Store: store, Now: time.Now}
}

const clientsPerPage = 25

// clientSettingsLabels name the settings card's fields in its messages.
var clientSettingsLabels = map[string]string{
	"registration_enabled":       "Dynamic client registration",
	"metadata_documents_enabled": "Client ID metadata documents",
	"metadata_document_hosts":    "Allowed metadata document hosts",
}

// clientSources are the sources the list can be filtered by.
var clientSources = []string{models.ClientSourceDCR, models.ClientSourceMetadataDocument, models.ClientSourceConsole}

func (h *Clients) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// ListClients shows one page of clients matching ?q= and ?source=, under
// the client registration settings.
func (h *Clients) ListClients(c echo.Context) error {
	st, err := h.Store.GetSettings(c.Request().Context())
	if err != nil {
		return err
	}
	return h.renderList(c, http.StatusOK, views.ClientSettingsForm{
		RegistrationEnabled:      st.RegistrationEnabled,
		MetadataDocumentsEnabled: st.MetadataDocumentsEnabled,
		MetadataDocumentHosts:    strings.Join(st.MetadataDocumentHosts, "\n"),
	})
}

func (h *Clients) renderList(c echo.Context, status int, settings views.ClientSettingsForm) error {
	ctx := c.Request().Context()
	q, page := listParams(c)
	source := c.QueryParam("source")
	if !isClientSource(source) {
		source = ""
	}
	list, total, err := h.Store.ListOAuthClients(ctx, models.OAuthClientFilter{
		Query: q, Source: source, Offset: (page - 1) * clientsPerPage, Limit: clientsPerPage,
	})
	if err != nil {
		return err
	}
	now := h.now()
	rows := make([]views.ClientRow, len(list))
	for i := range list {
		if rows[i], err = h.clientRow(ctx, &list[i], now); err != nil {
			return err
		}
	}
	props := views.ClientsProps{
		Page:       h.Page(c, "Clients", views.SectionClients),
		Query:      q,
		Source:     source,
		Clients:    rows,
		Pagination: paginate("/admin/clients", url.Values{"q": {q}, "source": {source}}, page, clientsPerPage, int(total)),
		Settings:   settings,
	}
	if total == 0 && q == "" && source == "" {
		if props.RouteURL, err = h.exampleRouteURL(ctx); err != nil {
			return err
		}
	}
	return Render(c, status, views.ClientsPage(props))
}

func isClientSource(s string) bool {
	return slices.Contains(clientSources, s)
}

// exampleRouteURL is the URL of an enabled MCP server route, to tell
// admins what to give an MCP client; "" when there is none.
func (h *Clients) exampleRouteURL(ctx context.Context) (string, error) {
	routes, _, err := h.Store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return "", err
	}
	for _, r := range routes {
		if r.Enabled && r.Kind == models.KindMCPServer {
			return r.From, nil
		}
	}
	return "", nil
}

func (h *Clients) clientRow(ctx context.Context, cl *models.OAuthClient, now time.Time) (views.ClientRow, error) {
	n, err := h.Store.CountActiveTokens(ctx, cl.ClientID, now)
	if err != nil {
		return views.ClientRow{}, err
	}
	row := views.ClientRow{
		ID: cl.ID, ClientID: cl.ClientID, Name: cl.Name, Source: cl.Source,
		CreatedAt: cl.CreatedAt, LastUsedAt: cl.LastUsedAt, ActiveTokens: n, Disabled: cl.Disabled,
	}
	seen := map[string]bool{}
	for _, u := range cl.RedirectURIs {
		if host := redirectHost(u); !seen[host] {
			seen[host] = true
			row.RedirectHosts = append(row.RedirectHosts, host)
		}
	}
	return row, nil
}

// ShowClient shows every field of one client and the actions on it.
func (h *Clients) ShowClient(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	row, err := h.clientRow(c.Request().Context(), cl, h.now())
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ClientPage(views.ClientProps{
		Page: h.Page(c, clientLabel(cl), views.SectionClients),
		Client: views.ClientDetail{
			ClientRow: row, ClientURI: cl.ClientURI, LogoURI: cl.LogoURI, RedirectURIs: cl.RedirectURIs,
			GrantTypes: cl.GrantTypes, TokenEndpointAuthMethod: cl.TokenEndpointAuthMethod, UpdatedAt: cl.UpdatedAt,
		},
	}))
}

// RevokeTokens revokes every token the client holds, for every user.
func (h *Clients) RevokeTokens(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	n, err := h.Store.RevokeClientTokens(c.Request().Context(), cl.ClientID, nil, h.now())
	if err != nil {
		return err
	}
	back := clientURL(cl)
	if n == 0 {
		return h.redirectWithFlash(c, back, views.FlashInfo, fmt.Sprintf("%s had no tokens to revoke.", clientLabel(cl)))
	}
	return h.redirectWithFlash(c, back, views.FlashSuccess, fmt.Sprintf("Revoked %s of %s.", plural(int(n), "token"), clientLabel(cl)))
}

// DisableClient turns a client off: its tokens stop working at once, and
// it can neither get nor refresh tokens until it is turned on again.
func (h *Clients) DisableClient(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	back := clientURL(cl)
	if cl.Disabled {
		return h.redirectWithFlash(c, back, views.FlashInfo, fmt.Sprintf("%s is already turned off.", clientLabel(cl)))
	}
	ctx := c.Request().Context()
	n, err := h.Store.CountActiveTokens(ctx, cl.ClientID, h.now())
	if err != nil {
		return err
	}
	if err := h.Store.DisableOAuthClient(ctx, cl.ID, true); err != nil {
		return err
	}
	msg := fmt.Sprintf("Turned off %s.", clientLabel(cl))
	if n > 0 {
		msg += fmt.Sprintf(" Its %s stopped working.", plural(int(n), "token"))
	}
	return h.redirectWithFlash(c, back, views.FlashSuccess, msg)
}

// EnableClient turns a client on again. The tokens revoked when it was
// turned off stay revoked.
func (h *Clients) EnableClient(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	back := clientURL(cl)
	if !cl.Disabled {
		return h.redirectWithFlash(c, back, views.FlashInfo, fmt.Sprintf("%s is already on.", clientLabel(cl)))
	}
	if err := h.Store.DisableOAuthClient(c.Request().Context(), cl.ID, false); err != nil {
		return err
	}
	return h.redirectWithFlash(c, back, views.FlashSuccess, fmt.Sprintf("Turned on %s. People can sign in through it again.", clientLabel(cl)))
}

// DeleteClient deletes a client with its tokens and consents. A client
// that introduced itself may come back the next time someone signs in
// through it.
func (h *Clients) DeleteClient(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, err := h.Store.CountActiveTokens(ctx, cl.ClientID, h.now())
	if err != nil {
		return err
	}
	if err := h.Store.DeleteOAuthClient(ctx, cl.ID); err != nil {
		return err
	}
	msg := fmt.Sprintf("Deleted %s.", clientLabel(cl))
	if n > 0 {
		msg = fmt.Sprintf("Deleted %s and revoked its %s.", clientLabel(cl), plural(int(n), "token"))
	}
	return h.redirectWithFlash(c, "/admin/clients", views.FlashSuccess, msg)
}

// UpdateClientSettings saves the client registration settings. Other
// settings are kept as stored.
func (h *Clients) UpdateClientSettings(c echo.Context) error {
	ctx := c.Request().Context()
	next, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	form := views.ClientSettingsForm{
		RegistrationEnabled:      c.FormValue("registration_enabled") == "true",
		MetadataDocumentsEnabled: c.FormValue("metadata_documents_enabled") == "true",
		MetadataDocumentHosts:    c.FormValue("metadata_document_hosts"),
	}
	hosts, lines := hostLines(form.MetadataDocumentHosts)
	next.RegistrationEnabled = form.RegistrationEnabled
	next.MetadataDocumentsEnabled = form.MetadataDocumentsEnabled
	next.MetadataDocumentHosts = hosts
	if err := h.Store.UpdateSettings(ctx, next); err != nil {
		status, messages, ok := settingsProblems(err, hosts, lines)
		if !ok {
			return err
		}
		form.Errors = messages
		return h.renderList(c, status, form)
	}
	return h.redirectWithFlash(c, "/admin/clients", views.FlashSuccess, "Saved the client registration settings.")
}

// hostLines reads the hosts textarea: one host per line, blank lines
// skipped. lines[i] is the line hosts[i] is on, counting from 1, so that
// a problem can be shown where the admin typed it.
func hostLines(text string) (hosts []string, lines []int) {
	for i, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			hosts = append(hosts, line)
			lines = append(lines, i+1)
		}
	}
	return hosts, lines
}

// hostField matches the store's name for one host of the list.
var hostField = regexp.MustCompile(`metadata_document_hosts\[(\d+)\]`)

// settingsProblems is formProblems for the settings card. The store names
// a bad host by its index ("metadata_document_hosts[2]"); the card says
// which line it is on, and what it says, under the textarea.
func settingsProblems(err error, hosts []string, lines []int) (int, map[string]string, bool) {
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		return formProblems(err, clientSettingsLabels)
	}
	line := func(ref string) (int, string) {
		m := hostField.FindStringSubmatch(ref)
		i, _ := strconv.Atoi(m[1])
		if i < 0 || i >= len(lines) {
			return 0, ""
		}
		return lines[i], hosts[i]
	}
	rest := &models.ValidationError{}
	var sentences []string
	for _, f := range verr.Fields {
		if hostField.FindString(f.Field) != f.Field {
			rest.Fields = append(rest.Fields, f)
			continue
		}
		n, host := line(f.Field)
		msg := hostField.ReplaceAllStringFunc(f.Message, func(ref string) string {
			other, _ := line(ref)
			return "line " + strconv.Itoa(other)
		})
		sentences = append(sentences, fmt.Sprintf("Line %d, “%s”, %s.", n, host, strings.TrimSuffix(msg, ".")))
	}
	status, messages, _ := formProblems(rest, clientSettingsLabels)
	if len(sentences) > 0 {
		if whole := messages["metadata_document_hosts"]; whole != "" {
			sentences = append([]string{whole}, sentences...)
		}
		messages["metadata_document_hosts"] = strings.Join(sentences, " ")
	}
	return status, messages, true
}

func (h *Clients) client(c echo.Context) (*models.OAuthClient, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.Store.GetOAuthClientByID(c.Request().Context(), id)
}

// clientURL is a client's page in the console.
func clientURL(cl *models.OAuthClient) string {
	return fmt.Sprintf("/admin/clients/%d", cl.ID)
}
