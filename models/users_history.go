package models

// userSnapshot is a user as the history shows it: the password only as a
// marker, and the session epoch, whose rise shows that sessions were
// voided. The sign-in time is left out: it changes no access, and signing
// in is not a configuration change.
type userSnapshot struct {
	Email        string   `yaml:"email"`
	Name         string   `yaml:"name"`
	Provider     string   `yaml:"provider"`
	Subject      string   `yaml:"subject"`
	Groups       []string `yaml:"groups"`
	IsAdmin      bool     `yaml:"is_admin"`
	IsAuditor    bool     `yaml:"is_auditor"`
	Disabled     bool     `yaml:"disabled"`
	Password     string   `yaml:"password"`
	SessionEpoch int      `yaml:"session_epoch"`
}

func snapshotUser(u *User, password string) userSnapshot {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return userSnapshot{
		Email: u.Email, Name: u.Name, Provider: u.Provider, Subject: u.Subject, Groups: groups,
		IsAdmin: u.IsAdmin, IsAuditor: u.IsAuditor, Disabled: u.Disabled, Password: password, SessionEpoch: u.SessionEpoch,
	}
}

// recordUserCreate records the creation of u.
func (w *configTx) recordUserCreate(u *User) error {
	after, err := snapshotText(snapshotUser(u, secretMarker(u.PasswordHash != "", false)))
	if err != nil {
		return err
	}
	return w.record(ResourceUser, u.ID, u.Email, ActionCreate, "", after)
}

// recordUserUpdate records the change from before to after, if there is
// one.
func (w *configTx) recordUserUpdate(before, after *User) error {
	b, a, differ, err := snapshotPair(
		snapshotUser(before, secretMarker(before.PasswordHash != "", false)),
		snapshotUser(after, secretMarker(after.PasswordHash != "", after.PasswordHash != before.PasswordHash)))
	if err != nil || !differ {
		return err
	}
	return w.record(ResourceUser, after.ID, after.Email, ActionUpdate, b, a)
}
