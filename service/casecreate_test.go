package service

import (
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// TestCreateCasePlan holds the CreateCase worked out before its
// transaction to the answer of the transaction's own reads: when the
// field set or the template changed after the caches were filled, or a
// value needs a record read, the transaction validates again, and a
// plan it writes stores what the transaction would have.
func TestCreateCasePlan(t *testing.T) {
	tests := []struct {
		name string
		// change runs after a first case filled the caches; it returns
		// the fields of the next CreateCase.
		change     func(e *csEnv) []api.FieldValue
		want       api.ErrorCode // "" for success
		wantReplan bool
	}{
		{
			name:   "unchanged",
			change: func(e *csEnv) []api.FieldValue { return []api.FieldValue{sv("title", "second")} },
		},
		{
			name: "field deleted since",
			change: func(e *csEnv) []api.FieldValue {
				id := e.field("Gone", api.FieldTypeText)
				e.mustCase(sv("title", "warm"), sv(id, "x"))
				e.deleteField(id)
				return []api.FieldValue{sv("title", "second"), sv(id, "x")}
			},
			want: api.CodeValidationException, wantReplan: true,
		},
		{
			name: "field created since",
			change: func(e *csEnv) []api.FieldValue {
				id := e.field("New", api.FieldTypeText)
				return []api.FieldValue{sv("title", "second"), sv(id, "x")}
			},
			wantReplan: true,
		},
		{
			name: "template deactivated since",
			change: func(e *csEnv) []api.FieldValue {
				e.template(localcases.Template{ID: e.tpl, Status: string(api.TemplateStatusInactive)})
				return []api.FieldValue{sv("title", "second")}
			},
			want: api.CodeValidationException, wantReplan: true,
		},
		{
			name: "inactive SingleSelect option",
			change: func(e *csEnv) []api.FieldValue {
				id := e.field("Pick", api.FieldTypeSingleSelect)
				e.options(id, false, "b")
				e.mustCase(sv("title", "warm"))
				return []api.FieldValue{sv("title", "second"), sv(id, "b")}
			},
			want: api.CodeValidationException, wantReplan: true,
		},
		{
			name: "active SingleSelect option",
			change: func(e *csEnv) []api.FieldValue {
				id := e.field("Pick", api.FieldTypeSingleSelect)
				e.options(id, true, "a")
				e.mustCase(sv("title", "warm"))
				return []api.FieldValue{sv("title", "second"), sv(id, "a")}
			},
			wantReplan: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := csNewEnv(t, Quotas{})
			first := e.mustCase(sv("title", "first"))
			fields := tt.change(e)
			before := e.s.createReplans.Load()
			id, err := e.createCase(e.tpl, fields...)
			if got := e.s.createReplans.Load() > before; got != tt.wantReplan {
				t.Errorf("replanned %v, want %v", got, tt.wantReplan)
			}
			if tt.want != "" {
				csWant(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("CreateCase: %v", err)
			}
			// The second case has what the first has, field for field,
			// and an audit entry of the same shape.
			a, b := e.caseRecord(first), e.caseRecord(id)
			for _, f := range fields {
				if got := b.Fields[*f.Id]; !valEqual(got, valFromUnion(f.Value)) {
					t.Errorf("field %s = %+v", *f.Id, got)
				}
			}
			for fid := range a.Fields {
				if _, ok := b.Fields[fid]; !ok {
					t.Errorf("field %s missing from the second case", fid)
				}
			}
			if b.Version != 1 || !b.Created.Equal(b.Modified) || b.Fields["case_id"].S != id {
				t.Errorf("second case: %+v", b)
			}
			au := e.audit(id)
			if len(au) != 1 || *au[0].Type != api.AuditEventTypeCaseCreated || len(au[0].Fields) != len(b.Fields) {
				t.Errorf("audit of the second case: %s", csJSON(au))
			}
		})
	}
}

func (e *csEnv) caseRecord(id string) *localcases.Case {
	e.t.Helper()
	var c *localcases.Case
	err := e.s.view(e.ctx, func(tx localcases.Tx) (err error) {
		c, err = e.s.loadCase(tx, e.domain, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}
