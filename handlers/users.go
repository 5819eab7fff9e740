package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// UserStore is what the Users page needs of the store.
type UserStore interface {
	ListUsers(ctx context.Context, f models.UserFilter) ([]models.User, int64, error)
	GetUser(ctx context.Context, id uint) (*models.User, error)
	CreateUser(ctx context.Context, u *models.User) error
	SetAdmin(ctx context.Context, id uint, admin bool) error
	SetAuditor(ctx context.Context, id uint, auditor bool) error
	SetDisabled(ctx context.Context, id uint, disabled bool) error
	CountUsers(ctx context.Context) (models.UserCounts, error)
}

// Users lets admins list, create, disable and promote users.
type Users struct {
	Base
	Store UserStore
}

// NewUsers builds the Users handlers.
func NewUsers(base Base, store UserStore) *Users { return &Users{Base: base, Store: store} }

const usersPerPage = 25

// userFieldLabels name the create-user form's fields in its messages.
var userFieldLabels = map[string]string{"email": "Email", "name": "Name", "password": "Password"}

// ListUsers shows one page of users matching ?q=.
func (h *Users) ListUsers(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	users, total, err := h.Store.ListUsers(c.Request().Context(), models.UserFilter{
		Query: q, Offset: (page - 1) * usersPerPage, Limit: usersPerPage,
	})
	if err != nil {
		return err
	}
	self := UserFrom(c)
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i] = views.UserRow{
			ID: u.ID, Email: u.Email, Name: u.Name, Provider: u.Provider, Groups: u.Groups,
			IsAdmin: u.IsAdmin, IsAuditor: u.IsAuditor, Disabled: u.Disabled, IsSelf: u.ID == self.ID,
			LastSignIn: u.LastSignInAt, CreatedAt: u.CreatedAt,
		}
	}
	return Render(c, http.StatusOK, views.UsersPage(views.UsersProps{
		Page:       h.Page(c, "Users", views.SectionUsers),
		Query:      q,
		Users:      rows,
		Pagination: paginate("/admin/users", url.Values{"q": {q}}, page, usersPerPage, int(total)),
		ReturnTo:   c.Request().URL.RequestURI(),
	}))
}

// NewUser shows the create-user form.
func (h *Users) NewUser(c echo.Context) error {
	return h.renderForm(c, http.StatusOK, views.UserForm{})
}

// CreateUser adds a local account with a password.
func (h *Users) CreateUser(c echo.Context) error {
	form := views.UserForm{
		Email:   strings.TrimSpace(c.FormValue("email")),
		Name:    strings.TrimSpace(c.FormValue("name")),
		IsAdmin: c.FormValue("is_admin") == "true",
	}
	password := c.FormValue("password")
	u := &models.User{Email: form.Email, Name: form.Name, IsAdmin: form.IsAdmin, Provider: models.ProviderLocal}
	// Check the password with the other fields so the form lists every
	// problem at once; only then pay for hashing it.
	problems := &models.ValidationError{}
	for _, err := range []error{u.Validate(), models.ValidatePassword(password)} {
		var verr *models.ValidationError
		if errors.As(err, &verr) {
			problems.Fields = append(problems.Fields, verr.Fields...)
		}
	}
	err := problems.Err()
	if err == nil {
		if u.PasswordHash, err = models.HashPassword(password); err != nil {
			return err
		}
		err = h.Store.CreateUser(c.Request().Context(), u)
	}
	if err != nil {
		status, messages, ok := formProblems(err, userFieldLabels)
		if !ok {
			return err
		}
		form.Errors = messages
		return h.renderForm(c, status, form)
	}
	return h.redirectWithFlash(c, "/admin/users", views.FlashSuccess, fmt.Sprintf("Created %s.", u.Email))
}

func (h *Users) renderForm(c echo.Context, status int, form views.UserForm) error {
	return Render(c, status, views.NewUserPage(views.NewUserProps{
		Page: h.Page(c, "New user", views.SectionUsers),
		Form: form,
	}))
}

// DisableUser stops a user from signing in and ends their sessions.
func (h *Users) DisableUser(c echo.Context) error {
	return h.change(c, "disabled", func(ctx context.Context, u *models.User) error {
		return h.Store.SetDisabled(ctx, u.ID, true)
	})
}

// EnableUser lets a disabled user sign in again.
func (h *Users) EnableUser(c echo.Context) error {
	return h.change(c, "enabled", func(ctx context.Context, u *models.User) error {
		return h.Store.SetDisabled(ctx, u.ID, false)
	})
}

// GrantAdmin makes a user an administrator.
func (h *Users) GrantAdmin(c echo.Context) error {
	return h.change(c, "is now an administrator", func(ctx context.Context, u *models.User) error {
		return h.Store.SetAdmin(ctx, u.ID, true)
	})
}

// RevokeAdmin takes the administrator role away.
func (h *Users) RevokeAdmin(c echo.Context) error {
	return h.change(c, "is no longer an administrator", func(ctx context.Context, u *models.User) error {
		return h.Store.SetAdmin(ctx, u.ID, false)
	})
}

// GrantAuditor lets a user read the audit log and the dashboard.
func (h *Users) GrantAuditor(c echo.Context) error {
	return h.change(c, "is now an auditor: they read the audit log and the dashboard", func(ctx context.Context, u *models.User) error {
		return h.Store.SetAuditor(ctx, u.ID, true)
	})
}

// RevokeAuditor takes the auditor role away.
func (h *Users) RevokeAuditor(c echo.Context) error {
	return h.change(c, "is no longer an auditor", func(ctx context.Context, u *models.User) error {
		return h.Store.SetAuditor(ctx, u.ID, false)
	})
}

// change applies one action to the user named in the path. Admins cannot
// act on themselves this way, so nobody locks themselves out by a slip.
func (h *Users) change(c echo.Context, done string, apply func(context.Context, *models.User) error) error {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such user.")
	}
	ctx := c.Request().Context()
	u, err := h.Store.GetUser(ctx, uint(id))
	if err != nil {
		return err
	}
	back := returnTo(c, "/admin/users")
	if u.ID == UserFrom(c).ID {
		return h.redirectWithFlash(c, back, views.FlashError, "You cannot change your own account from this list; ask another administrator.")
	}
	if err := apply(ctx, u); err != nil {
		return err
	}
	return h.redirectWithFlash(c, back, views.FlashSuccess, fmt.Sprintf("%s %s.", u.Email, done))
}

// returnTo reads the form's return_to: the list the admin acted from, so
// a search or page survives the action. Only paths under list qualify.
func returnTo(c echo.Context, list string) string {
	back := SafeNext(c.FormValue("return_to"))
	if back == list || strings.HasPrefix(back, list+"?") {
		return back
	}
	return list
}

// paginate builds the pager for a list at path with the given filters.
func paginate(path string, filters url.Values, page, perPage, total int) views.Pagination {
	p := views.Pagination{Page: page, PerPage: perPage, Total: total}
	link := func(n int) string {
		q := url.Values{}
		for k, vs := range filters {
			if len(vs) > 0 && vs[0] != "" {
				q.Set(k, vs[0])
			}
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	if page > 1 {
		p.PrevURL = link(page - 1)
	}
	if page*perPage < total {
		p.NextURL = link(page + 1)
	}
	return p
}
