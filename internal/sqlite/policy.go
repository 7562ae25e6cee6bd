package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/icrec"
)

// policyWhat names a policy in error messages as the caller spelled it.
func policyWhat(name string) string { return fmt.Sprintf("policy %q", name) }

const listPoliciesSQL = "SELECT name_fold, name, position, rights, created FROM policies ORDER BY position"

// The kinds of child row that listPolicyChildrenSQL returns.
const (
	policyUser = iota + 1
	policyRole
	policyWorkgroup
	policyScope
)

// listPolicyChildrenSQL reads the children of every policy in one query, as
// rows of (policy_fold, kind, num, s): a user (s) in the order given, a role
// or workgroup (s) by folded form, or a scope of kind num and value s in the
// order given.
var listPolicyChildrenSQL = fmt.Sprintf(`
	SELECT policy_fold, kind, num, s FROM (
		SELECT policy_fold, %[1]d AS kind, position AS k, 0 AS num, user_id AS s FROM policy_users
		UNION ALL
		SELECT policy_fold, %[2]d, name_fold, 0, name FROM policy_roles
		UNION ALL
		SELECT policy_fold, %[3]d, name_fold, 0, name FROM policy_workgroups
		UNION ALL
		SELECT policy_fold, %[4]d, position, kind, value FROM policy_scopes
	) ORDER BY policy_fold, kind, k`,
	policyUser, policyRole, policyWorkgroup, policyScope)

// CreatePolicy implements icrec.PolicyStore.
func (d *DB) CreatePolicy(ctx context.Context, p *icrec.Policy) error {
	now := fromMillis(millis(d.now()))
	fold := icrec.FoldID(p.Name)
	what := policyWhat(p.Name)
	var position int
	err := d.write(ctx, func(tx *sql.Tx) error {
		// The writer is one connection in IMMEDIATE transactions, so no
		// other create can take the same position meanwhile.
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO policies (name_fold, name, position, rights, created)
			VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM policies), ?, ?)
			RETURNING position`,
			fold, p.Name, int64(p.Rights), millis(now),
		).Scan(&position); err != nil {
			return translate(err, "create policy", what, "")
		}
		for i, u := range p.Users {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO policy_users (policy_fold, position, user_id) VALUES (?, ?, ?)", fold, i, u,
			); err != nil {
				return err
			}
		}
		for _, t := range []struct {
			table, what string
			names       []string
		}{
			{"policy_roles", "role", p.Roles},
			{"policy_workgroups", "workgroup", p.Workgroups},
		} {
			for _, n := range t.names {
				if _, err := tx.ExecContext(ctx,
					"INSERT INTO "+t.table+" (policy_fold, name_fold, name) VALUES (?, ?, ?)",
					fold, icrec.FoldID(n), n,
				); err != nil {
					// A conflict here means names was not normalised.
					return translate(err, "store "+t.what, fmt.Sprintf("%s %q of %s", t.what, n, what), "")
				}
			}
		}
		for i, s := range p.Scopes {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO policy_scopes (policy_fold, position, kind, value) VALUES (?, ?, ?, ?)",
				fold, i, int64(s.Kind), s.Value,
			); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, "create policy", what, "")
	}
	// Only now: a failed create leaves the caller's policy as it was.
	p.Position, p.Created = position, now
	return nil
}

// ListPolicies implements icrec.PolicyStore. It takes two queries however
// many policies there are, prepared once: deciding what a user may do with
// a recording starts from the list.
func (d *DB) ListPolicies(ctx context.Context) ([]*icrec.Policy, error) {
	var policies []*icrec.Policy
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := d.query(ctx, tx, listPoliciesSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		byFold := make(map[string]*icrec.Policy)
		for rows.Next() {
			var (
				p               icrec.Policy
				fold            string
				rights, created int64
			)
			if err := rows.Scan(&fold, &p.Name, &p.Position, &rights, &created); err != nil {
				return err
			}
			p.Rights, p.Created = icrec.Rights(rights), fromMillis(created)
			policies = append(policies, &p)
			byFold[fold] = &p
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return d.listPolicyChildren(ctx, tx, byFold)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list policies: %w", err)
	}
	return policies, nil
}

// listPolicyChildren adds the users, roles, workgroups and scopes of the
// policies in byFold, keyed by folded name.
func (d *DB) listPolicyChildren(ctx context.Context, tx *sql.Tx, byFold map[string]*icrec.Policy) error {
	rows, err := d.query(ctx, tx, listPolicyChildrenSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		fold sql.RawBytes
		kind int
		num  int64
		s    string
	)
	for rows.Next() {
		if err := rows.Scan(&fold, &kind, &num, &s); err != nil {
			return err
		}
		p := byFold[string(fold)]
		if p == nil {
			// The foreign keys make this impossible; say so if it happens.
			return fmt.Errorf("a child row of kind %d belongs to unknown policy %q", kind, fold)
		}
		switch kind {
		case policyUser:
			p.Users = append(p.Users, s)
		case policyRole:
			p.Roles = append(p.Roles, s)
		case policyWorkgroup:
			p.Workgroups = append(p.Workgroups, s)
		case policyScope:
			p.Scopes = append(p.Scopes, icrec.Scope{Kind: icrec.ScopeKind(num), Value: s})
		default:
			return fmt.Errorf("policy child row of unknown kind %d", kind)
		}
	}
	return rows.Err()
}

// DeletePolicy implements icrec.PolicyStore. The policy's users, roles,
// workgroups and scopes go with it by ON DELETE CASCADE; the policies after
// it move up one place in the same transaction.
func (d *DB) DeletePolicy(ctx context.Context, name string) error {
	err := d.write(ctx, func(tx *sql.Tx) error {
		var position int
		if err := tx.QueryRowContext(ctx,
			"DELETE FROM policies WHERE name_fold = ? RETURNING position", icrec.FoldID(name),
		).Scan(&position); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE policies SET position = -(position - 1) WHERE position > ?", position,
		); err != nil {
			return err
		}
		return settlePositions(ctx, tx)
	})
	return translate(err, "delete policy", policyWhat(name), "")
}

// MovePolicy implements icrec.PolicyStore. Only the policies between the
// old and the new place move, each by one.
func (d *DB) MovePolicy(ctx context.Context, name, before string) error {
	fold, beforeFold := icrec.FoldID(name), icrec.FoldID(before)
	err := d.write(ctx, func(tx *sql.Tx) error {
		var from, to int
		if err := tx.QueryRowContext(ctx, "SELECT position FROM policies WHERE name_fold = ?", fold).Scan(&from); err != nil {
			return translate(err, "move policy", policyWhat(name), "")
		}
		if err := tx.QueryRowContext(ctx, "SELECT position FROM policies WHERE name_fold = ?", beforeFold).Scan(&to); err != nil {
			return translate(err, "move policy", policyWhat(before), "")
		}
		// The moved policy takes the place just before the other's; the
		// policies in between close the gap it leaves and open the one it
		// fills.
		lo, hi, shift := to, from, 1 // moving up
		if from < to {
			lo, hi, shift = from, to-1, -1 // moving down
			to--
		}
		if from == to {
			return nil // already there, or before itself
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE policies SET position = -(CASE WHEN name_fold = ? THEN ? ELSE position + ? END)
			WHERE position BETWEEN ? AND ?`,
			fold, to, shift, lo, hi,
		); err != nil {
			return err
		}
		return settlePositions(ctx, tx)
	})
	return translate(err, "move policy", policyWhat(name), "")
}

// settlePositions ends a renumbering. Renumbering gives the policies it
// moves their new positions negated, where no other policy can hold them
// (positions are UNIQUE, and SQLite checks that row by row, so a range
// shifted in place could collide with itself half-way); this turns them
// positive.
func settlePositions(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE policies SET position = -position WHERE position < 0")
	return err
}
