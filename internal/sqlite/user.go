package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/icrec"
)

// nameTable is a table that holds one list of names of a user: its roles or
// its workgroups.
type nameTable struct {
	table string // table name
	what  string // what one name is, for error messages
}

var (
	roleTable      = nameTable{table: "user_roles", what: "role"}
	workgroupTable = nameTable{table: "user_workgroups", what: "workgroup"}
)

// CreateUser implements icrec.UserStore.
func (d *DB) CreateUser(ctx context.Context, u *icrec.User) error {
	now := fromMillis(millis(d.now()))
	fold := icrec.FoldID(u.ID)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO users (id, display_id, name, password_hash, disabled, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			fold, u.ID, u.Name, u.PasswordHash, u.Disabled, millis(now), millis(now),
		); err != nil {
			return translate(err, "create user", userWhat(u.ID), "")
		}
		if err := insertNames(ctx, tx, roleTable, fold, u.ID, u.Roles); err != nil {
			return err
		}
		return insertNames(ctx, tx, workgroupTable, fold, u.ID, u.Workgroups)
	})
	if err != nil {
		return translate(err, "create user", userWhat(u.ID), "")
	}
	// Only now: a failed create leaves the caller's user as it was.
	u.Created, u.Updated = now, now
	return nil
}

// FindUserByID implements icrec.UserStore.
func (d *DB) FindUserByID(ctx context.Context, id string) (*icrec.User, error) {
	var u *icrec.User
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		u, err = findUser(ctx, d.prepared(tx), icrec.FoldID(id))
		return err
	})
	if err != nil {
		return nil, translate(err, "find user", userWhat(id), "")
	}
	return u, nil
}

// ListUsers implements icrec.UserStore.
func (d *DB) ListUsers(ctx context.Context) ([]*icrec.User, error) {
	var users []*icrec.User
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id, display_id, name, password_hash, disabled, created, updated
			FROM users ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		byFold := make(map[string]*icrec.User)
		for rows.Next() {
			fold, u, err := scanUser(rows)
			if err != nil {
				return err
			}
			users = append(users, u)
			byFold[fold] = u
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Two queries for all names rather than two per user.
		for _, t := range []nameTable{roleTable, workgroupTable} {
			if err := listNames(ctx, tx, t, byFold); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return users, nil
}

// CountUsers implements icrec.UserStore.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count users: %w", err)
	}
	return n, nil
}

// UpdateUser implements icrec.UserStore.
func (d *DB) UpdateUser(ctx context.Context, id string, upd icrec.UserUpdate) (*icrec.User, error) {
	fold := icrec.FoldID(id)
	var u *icrec.User
	err := d.write(ctx, func(tx *sql.Tx) error {
		// NULL, for a field left nil, keeps the stored value.
		if err := mustAffect(tx.ExecContext(ctx, `
			UPDATE users SET
				name = coalesce(?, name),
				password_hash = coalesce(?, password_hash),
				disabled = coalesce(?, disabled),
				updated = ?
			WHERE id = ?`,
			opt(upd.Name), opt(upd.PasswordHash), opt(upd.Disabled), millis(d.now()), fold,
		)); err != nil {
			return err
		}
		if upd.Roles != nil {
			if err := replaceNames(ctx, tx, roleTable, fold, id, *upd.Roles); err != nil {
				return err
			}
		}
		if upd.Workgroups != nil {
			if err := replaceNames(ctx, tx, workgroupTable, fold, id, *upd.Workgroups); err != nil {
				return err
			}
		}
		if upd.EndSessions {
			// The sessions' auth tokens go with them (ON DELETE CASCADE).
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", fold); err != nil {
				return err
			}
		}
		var err error
		u, err = findUser(ctx, tx, fold)
		return err
	})
	if err != nil {
		return nil, translate(err, "update user", userWhat(id), "")
	}
	return u, nil
}

// DeleteUser implements icrec.UserStore. Its sessions, their auth tokens,
// and its roles and workgroups go with it by ON DELETE CASCADE, within the
// one statement.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	res, err := d.w.ExecContext(ctx, "DELETE FROM users WHERE id = ?", icrec.FoldID(id))
	return translate(mustAffect(res, err), "delete user", userWhat(id), "")
}

// scanUser scans a row of (id, display_id, name, password_hash, disabled,
// created, updated) and returns the folded id and the user.
func scanUser(row interface{ Scan(...any) error }) (string, *icrec.User, error) {
	var (
		fold             string
		u                icrec.User
		created, updated int64
	)
	if err := row.Scan(&fold, &u.ID, &u.Name, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		return "", nil, err
	}
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	return fold, &u, nil
}

// findUser returns the user whose folded id is fold, or sql.ErrNoRows.
func findUser(ctx context.Context, q querier, fold string) (*icrec.User, error) {
	_, u, err := scanUser(q.QueryRowContext(ctx, `
		SELECT id, display_id, name, password_hash, disabled, created, updated
		FROM users WHERE id = ?`, fold))
	if err != nil {
		return nil, err
	}
	if u.Roles, err = findNames(ctx, q, roleTable, fold); err != nil {
		return nil, err
	}
	if u.Workgroups, err = findNames(ctx, q, workgroupTable, fold); err != nil {
		return nil, err
	}
	return u, nil
}

// findNames returns the names in t of the user whose folded id is fold,
// sorted by folded form.
func findNames(ctx context.Context, q querier, t nameTable, fold string) ([]string, error) {
	return scanStrings(q.QueryContext(ctx, "SELECT name FROM "+t.table+" WHERE user_id = ? ORDER BY name_fold", fold))
}

// listNames adds the names in t to the users in byFold, keyed by folded id.
func listNames(ctx context.Context, q querier, t nameTable, byFold map[string]*icrec.User) error {
	rows, err := q.QueryContext(ctx, "SELECT user_id, name FROM "+t.table+" ORDER BY user_id, name_fold")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var fold, n string
		if err := rows.Scan(&fold, &n); err != nil {
			return err
		}
		u := byFold[fold]
		if u == nil {
			// The foreign key makes this impossible; say so if it happens.
			return fmt.Errorf("%s %q belongs to unknown user %q", t.what, n, fold)
		}
		if t == roleTable {
			u.Roles = append(u.Roles, n)
		} else {
			u.Workgroups = append(u.Workgroups, n)
		}
	}
	return rows.Err()
}

// insertNames stores names in t for the user whose folded id is fold;
// displayID names the user in errors.
func insertNames(ctx context.Context, tx *sql.Tx, t nameTable, fold, displayID string, names []string) error {
	for _, n := range names {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO "+t.table+" (user_id, name_fold, name) VALUES (?, ?, ?)",
			fold, icrec.FoldID(n), n,
		); err != nil {
			// A conflict here means names was not normalised.
			return translate(err, "store "+t.what, fmt.Sprintf("%s %q of user %q", t.what, n, displayID), "")
		}
	}
	return nil
}

// replaceNames makes names the whole list in t of the user.
func replaceNames(ctx context.Context, tx *sql.Tx, t nameTable, fold, displayID string, names []string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.table+" WHERE user_id = ?", fold); err != nil {
		return err
	}
	return insertNames(ctx, tx, t, fold, displayID, names)
}

// opt returns *p, or nil (SQL NULL) if p is nil.
func opt[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
