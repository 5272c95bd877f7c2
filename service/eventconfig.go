package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// eventConfigID is the one record a domain's event configuration lives in.
const eventConfigID = "default"

// GetCaseEventConfiguration returns the stored configuration, or publishing
// disabled before any Put; deleted fields are left out of caseData.fields
// (§10, §4.4).
func (s *Service) GetCaseEventConfiguration(ctx context.Context, in *api.GetCaseEventConfigurationRequest) (*api.GetCaseEventConfigurationResponse, error) {
	domainID := str(in.DomainId)
	var cfg localcases.EventConfig
	var fields map[string]*localcases.Field
	found := false
	err := s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		err := tx.Get(localcases.EventConfigs, domainID, eventConfigID, &cfg)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		fields, err = configFieldIndex(tx, domainID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return &api.GetCaseEventConfigurationResponse{EventBridge: &api.EventBridgeConfiguration{Enabled: ptr(false)}}, nil
	}
	var eb api.EventBridgeConfiguration
	if err := json.Unmarshal(cfg.EventBridge, &eb); err != nil {
		return nil, fmt.Errorf("decode event configuration of %s: %w", domainID, err)
	}
	if eb.Enabled == nil {
		eb.Enabled = ptr(false)
	}
	if eb.IncludedData != nil && eb.IncludedData.CaseData != nil {
		cd := eb.IncludedData.CaseData
		kept := make([]api.FieldIdentifier, 0, len(cd.Fields))
		for _, f := range cd.Fields {
			if fd := fields[str(f.Id)]; fd != nil && fd.Deleted {
				continue
			}
			kept = append(kept, f)
		}
		cd.Fields = kept
	}
	return &api.GetCaseEventConfigurationResponse{EventBridge: &eb}, nil
}

// PutCaseEventConfiguration replaces the configuration; the fields an event
// should carry must be live fields of the domain (§10).
func (s *Service) PutCaseEventConfiguration(ctx context.Context, in *api.PutCaseEventConfigurationRequest) (*api.PutCaseEventConfigurationResponse, error) {
	domainID := str(in.DomainId)
	if in.EventBridge == nil {
		return nil, api.Validation("eventBridge is required.")
	}
	var ids []string
	if d := in.EventBridge.IncludedData; d != nil && d.CaseData != nil {
		for _, f := range d.CaseData.Fields {
			ids = append(ids, str(f.Id))
		}
	}
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		fields, err := configFieldIndex(tx, domainID)
		if err != nil {
			return err
		}
		if err := checkConfigFieldRefs(fields, "eventBridge.includedData.caseData.fields", ids); err != nil {
			return err
		}
		return tx.Put(localcases.EventConfigs, domainID, eventConfigID, &localcases.EventConfig{EventBridge: mustJSON(in.EventBridge)})
	})
	if err != nil {
		return nil, err
	}
	return &api.PutCaseEventConfigurationResponse{}, nil
}
