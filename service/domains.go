package service

import (
	"context"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// CreateDomain creates a domain and its system fields (§3, §11). Names are
// unique in the account, and the account may hold Quotas.DomainsPerAccount.
func (s *Service) CreateDomain(ctx context.Context, in *api.CreateDomainRequest) (*api.CreateDomainResponse, error) {
	name := str(in.Name)
	d := localcases.Domain{ID: localcases.NewID(), Name: name, Status: string(api.DomainStatusActive), Created: s.now()}
	d.ARN = s.arn("domain/%s", d.ID)
	err := s.update(ctx, func(tx localcases.Tx) error {
		n := 0
		var dup bool
		err := tx.List(localcases.Domains, s.cfg.Account, 0, func(r localcases.Raw) (bool, error) {
			var other localcases.Domain
			if err := decode(r, &other); err != nil {
				return false, err
			}
			n++
			dup = dup || other.Name == name
			return true, nil
		})
		if err != nil {
			return err
		}
		if dup {
			return api.Conflict("A domain named %q already exists.", name)
		}
		if n >= s.quotas.DomainsPerAccount {
			return api.QuotaExceeded("The account already has %d domains, the maximum allowed.", n)
		}
		if err := tx.Put(localcases.Domains, s.cfg.Account, d.ID, &d); err != nil {
			return err
		}
		return s.createSystemFields(tx, &d)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateDomainResponse{DomainId: &d.ID, DomainArn: &d.ARN, DomainStatus: ptr(api.DomainStatus(d.Status))}, nil
}

func (s *Service) GetDomain(ctx context.Context, in *api.GetDomainRequest) (*api.GetDomainResponse, error) {
	var d *localcases.Domain
	err := s.view(ctx, func(tx localcases.Tx) (err error) {
		d, err = s.getDomain(tx, str(in.DomainId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetDomainResponse{
		DomainId:     &d.ID,
		DomainArn:    &d.ARN,
		Name:         &d.Name,
		CreatedTime:  api.NewTime(d.Created),
		DomainStatus: ptr(api.DomainStatus(d.Status)),
		Tags:         tagsOut(d.Tags),
	}, nil
}

func (s *Service) ListDomains(ctx context.Context, in *api.ListDomainsRequest) (*api.ListDomainsResponse, error) {
	listing := listingKey("ListDomains", s.cfg.Account)
	tok, err := s.decodeToken(in.NextToken, listing)
	if err != nil {
		return nil, err
	}
	var domains []localcases.Domain
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		domains, next, err = listPage[localcases.Domain](s, tx, localcases.Domains, s.cfg.Account, tok, pageSize(in.MaxResults, 10), nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListDomainsResponse{Domains: make([]api.DomainSummary, 0, len(domains)), NextToken: next}
	for _, d := range domains {
		out.Domains = append(out.Domains, api.DomainSummary{DomainId: ptr(d.ID), DomainArn: ptr(d.ARN), Name: ptr(d.Name)})
	}
	return out, nil
}

// DeleteDomain removes the domain and everything in it in one transaction.
func (s *Service) DeleteDomain(ctx context.Context, in *api.DeleteDomainRequest) (*api.DeleteDomainResponse, error) {
	id := str(in.DomainId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, id); err != nil {
			return err
		}
		return s.deleteDomainContents(tx, id)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteDomainResponse{}, nil
}

func (s *Service) deleteDomainContents(tx localcases.Tx, id string) error {
	var fieldIDs, caseIDs []string
	collect := func(dst *[]string) func(localcases.Raw) (bool, error) {
		return func(r localcases.Raw) (bool, error) { *dst = append(*dst, r.ID); return true, nil }
	}
	if err := tx.List(localcases.Fields, id, 0, collect(&fieldIDs)); err != nil {
		return err
	}
	if err := tx.List(localcases.Cases, id, 0, collect(&caseIDs)); err != nil {
		return err
	}
	for _, f := range fieldIDs {
		if err := tx.DeleteScope(localcases.FieldOptions, scope2(id, f)); err != nil {
			return err
		}
	}
	for _, c := range caseIDs {
		if err := s.deleteCaseContents(tx, id, c); err != nil {
			return err
		}
	}
	for _, c := range []localcases.Collection{
		localcases.Fields, localcases.Layouts, localcases.Templates, localcases.CaseRules,
		localcases.Cases, localcases.EventConfigs, localcases.ClientTokens, localcases.ReferenceNums,
	} {
		if err := tx.DeleteScope(c, id); err != nil {
			return err
		}
	}
	return tx.Delete(localcases.Domains, s.cfg.Account, id)
}

// deleteCaseContents removes what hangs off a case: related items, audit
// events, and the contact links that ListCasesForContact reads.
func (s *Service) deleteCaseContents(tx localcases.Tx, domainID, caseID string) error {
	var links []string
	err := tx.List(localcases.RelatedItems, scope2(domainID, caseID), 0, func(r localcases.Raw) (bool, error) {
		var ri localcases.RelatedItem
		if err := decode(r, &ri); err != nil {
			return false, err
		}
		if arn := contactARNOf(&ri); arn != "" {
			links = append(links, arn)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, arn := range links {
		err := tx.Delete(localcases.ContactLinks, scope2(domainID, arn), caseID)
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	if err := unindexCase(tx, caseID); err != nil {
		return err
	}
	if err := unindexCaseText(tx, domainID, caseID); err != nil {
		return err
	}
	if err := tx.DeleteScope(localcases.RelatedItems, scope2(domainID, caseID)); err != nil {
		return err
	}
	return tx.DeleteScope(localcases.AuditEvents, scope2(domainID, caseID))
}
