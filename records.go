package localcases

import (
	"encoding/json"
	"time"
)

// The records below are what the service stores. They are deliberately not
// the wire shapes: the wire may grow members without forcing a migration.
// Nested rule and layout structures that the service only stores and echoes
// are kept as the JSON document the client sent (json.RawMessage).

// Domain is a Cases domain.
type Domain struct {
	ID      string            `json:"id"`
	ARN     string            `json:"arn"`
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Created time.Time         `json:"created"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// Field namespaces.
const (
	NamespaceSystem = "System"
	NamespaceCustom = "Custom"
)

// Field is a case field definition.
type Field struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Type        string            `json:"type"`
	Namespace   string            `json:"namespace"`
	Multiline   *bool             `json:"multiline,omitempty"`
	Deleted     bool              `json:"deleted,omitempty"`
	Created     time.Time         `json:"created"`
	Modified    time.Time         `json:"modified"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// FieldOption is one option of a SingleSelect field, keyed by Value.
type FieldOption struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Active bool   `json:"active"`
}

// Layout is a case layout. Content is the LayoutContent union as sent.
type Layout struct {
	ID       string            `json:"id"`
	ARN      string            `json:"arn"`
	Name     string            `json:"name"`
	Content  json.RawMessage   `json:"content"`
	Deleted  bool              `json:"deleted,omitempty"`
	Created  time.Time         `json:"created"`
	Modified time.Time         `json:"modified"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// TemplateRule attaches a case rule to a field in a template.
type TemplateRule struct {
	CaseRuleID string `json:"caseRuleId"`
	FieldID    string `json:"fieldId,omitempty"`
}

// Template is a case template.
type Template struct {
	ID             string            `json:"id"`
	ARN            string            `json:"arn"`
	Name           string            `json:"name"`
	Description    string            `json:"description,omitempty"`
	DefaultLayout  string            `json:"defaultLayout,omitempty"`
	RequiredFields []string          `json:"requiredFields,omitempty"`
	Status         string            `json:"status"`
	Rules          []TemplateRule    `json:"rules,omitempty"`
	TagPropagation map[string]string `json:"tagPropagation,omitempty"` // Cases tag map
	HasPropagation bool              `json:"hasPropagation,omitempty"`
	Deleted        bool              `json:"deleted,omitempty"`
	Created        time.Time         `json:"created"`
	Modified       time.Time         `json:"modified"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// CaseRule is a case rule. Rule is the CaseRuleDetails union as sent.
type CaseRule struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	RuleType    string            `json:"ruleType"`
	Rule        json.RawMessage   `json:"rule"`
	Deleted     bool              `json:"deleted,omitempty"`
	Created     time.Time         `json:"created"`
	Modified    time.Time         `json:"modified"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// EventConfig is a domain's case event configuration. EventBridge is the
// EventBridgeConfiguration shape as sent.
type EventConfig struct {
	EventBridge json.RawMessage `json:"eventBridge"`
}

// ValueKind says which member of FieldValueUnion a Value holds.
type ValueKind string

const (
	ValueString ValueKind = "string"
	ValueDouble ValueKind = "double"
	ValueBool   ValueKind = "bool"
	ValueUser   ValueKind = "user"
	ValueEmpty  ValueKind = "empty"
)

// Value is a stored field value.
type Value struct {
	Kind ValueKind `json:"k"`
	S    string    `json:"s,omitempty"` // string and user ARN values
	N    float64   `json:"n,omitempty"`
	B    bool      `json:"b,omitempty"`
}

// Case is a case with its field values by field ID.
type Case struct {
	ID         string            `json:"id"`
	ARN        string            `json:"arn"`
	TemplateID string            `json:"templateId"`
	Fields     map[string]Value  `json:"fields"`
	Tags       map[string]string `json:"tags,omitempty"`
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	// Version increases with every write; optimistic checks and audit order use it.
	Version int64 `json:"version"`
}

// ClientToken remembers a CreateCase clientToken so a retry returns the
// first call's case instead of making another.
type ClientToken struct {
	CaseID      string    `json:"caseId"`
	CaseARN     string    `json:"caseArn"`
	RequestHash string    `json:"requestHash"`
	Created     time.Time `json:"created"`
}

// RelatedItem is an item attached to a case. Content is the stored
// RelatedItemContent union.
type RelatedItem struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	CaseID      string            `json:"caseId"`
	Type        string            `json:"type"`
	Content     json.RawMessage   `json:"content"`
	Associated  time.Time         `json:"associated"`
	PerformedBy json.RawMessage   `json:"performedBy,omitempty"`
	UpdatedBy   json.RawMessage   `json:"updatedBy,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// AuditField is one field change in an audit event.
type AuditField struct {
	FieldID  string `json:"fieldId"`
	OldValue *Value `json:"old,omitempty"`
	NewValue Value  `json:"new"`
}

// AuditEvent is one entry of a case's audit history.
type AuditEvent struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	RelatedItemType string          `json:"relatedItemType,omitempty"`
	Performed       time.Time       `json:"performed"`
	Fields          []AuditField    `json:"fields"`
	IAMPrincipalARN string          `json:"iamPrincipalArn"`
	User            json.RawMessage `json:"user,omitempty"`
}

// SnapshotFormat names the format of Snapshot, for import to check.
const SnapshotFormat = "localcases-snapshot/1"

// Snapshot is the whole state of an account, as `localcases export` writes
// it and `import` or `serve --import` load it: every record, by collection
// and scope, in list order. It is what a team checks into its repository
// as a fixture.
type Snapshot struct {
	Format  string           `json:"format"`
	Region  string           `json:"region"`
	Account string           `json:"account"`
	Records []SnapshotRecord `json:"records"`
}

// SnapshotRecord is one stored record.
type SnapshotRecord struct {
	Collection Collection      `json:"collection"`
	Scope      string          `json:"scope"`
	ID         string          `json:"id"`
	Data       json.RawMessage `json:"data"`
}
