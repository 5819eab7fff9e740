package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/drawbridge/drawbridge/models"
)

// Disconnect forgets user's tokens at app and, when the app has a
// revocation endpoint, revokes them there (RFC 7009): the refresh token,
// which ends the grant at most providers, then the access token. The
// tokens are gone from Drawbridge even when the upstream cannot be
// reached; that failure is logged, not returned. ErrNotConnected when
// there was nothing to forget.
func (v *Vault) Disconnect(ctx context.Context, userID uint, app *models.UpstreamApp) error {
	c, err := v.store.DeleteUpstreamConnection(ctx, userID, app.ID)
	v.Forget(userID, app.ID)
	if errors.Is(err, models.ErrNotFound) {
		return ErrNotConnected
	}
	if err != nil {
		return err
	}
	if app.RevocationURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	cfg, err := v.config(ctx, app)
	if err != nil {
		v.log.Warn("vault: read app secret to revoke upstream tokens", "app", app.Name, "error", err)
		return nil
	}
	secret := cfg.ClientSecret
	for _, t := range []struct{ value, hint string }{{c.RefreshToken, "refresh_token"}, {c.AccessToken, "access_token"}} {
		if t.value == "" {
			continue
		}
		if err := v.revoke(ctx, app, secret, t.value, t.hint); err != nil {
			v.log.Warn("vault: upstream revocation failed; the tokens are forgotten here anyway",
				"app", app.Name, "token", t.hint, "error", err)
		}
	}
	return nil
}

// revoke posts one token to app's revocation endpoint, authenticating as
// the app's token endpoint expects.
func (v *Vault) revoke(ctx context.Context, app *models.UpstreamApp, secret, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if app.AuthStyle == models.AuthStyleParams {
		form.Set("client_id", app.ClientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, app.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if app.AuthStyle != models.AuthStyleParams {
		req.SetBasicAuth(url.QueryEscape(app.ClientID), url.QueryEscape(secret))
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint answered %s", resp.Status)
	}
	return nil
}
