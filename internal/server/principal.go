package server

import (
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/service"
)

// principals names the caller in audit history (performedBy.iamPrincipalArn).
// Without IAM, the access key of the request's signature stands for the
// user: arn:aws:iam::{account}:user/{accessKeyId}; an unsigned request is
// the account root.
func (s *Server) principals(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		arn := "arn:aws:iam::" + s.cfg.Account + ":root"
		if key, ok := restjson.AccessKeyID(c.Request); ok {
			arn = "arn:aws:iam::" + s.cfg.Account + ":user/" + key
		}
		c.Request = c.Request.WithContext(service.WithPrincipal(c.Request.Context(), arn))
		return next(c)
	}
}
