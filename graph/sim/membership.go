package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
)

// This file answers the enrollment-time device membership actions of a
// profile: setEnrollmentTimeDeviceMembershipTarget,
// retrieveEnrollmentTimeDeviceMembershipTarget and
// clearEnrollmentTimeDeviceMembershipTarget (Graph beta reference pages of
// those names, stored in testdata/docs).
//
// Shapes, and the choices made where the pages are silent:
//
//   - set and retrieve answer 200 with the result wrapped in "value", as
//     both pages' examples show. (The Kiota-generated SDK reads the result
//     at the top level instead; SOURCES.md, difference 3. The pages win
//     here; the client reads both.)
//   - Each status carries validationSucceeded, as the pages' examples show,
//     although the metadata type has only targetId and
//     targetValidationErrorCode (SOURCES.md, difference 2).
//   - targetValidationErrorCode is not nullable in the metadata, so a
//     status that succeeded still carries one: the enum's first member,
//     securityGroupNotFound, which is also what the pages' examples show
//     next to validationSucceeded true. Only validationSucceeded says
//     whether a target passed.
//   - Validation, in this order: the group does not exist (or targetId is
//     not a GUID): securityGroupNotFound; securityEnabled false:
//     notSecurityGroup; groupTypes holds DynamicMembership:
//     notStaticSecurityGroup; the Intune Provisioning Client
//     (IntuneProvisioningClientAppID) is not among its owners:
//     firstPartyAppNotAnOwner; Group.OutOfScope:
//     securityGroupNotInCallerScope. The order is this simulator's.
//   - A set whose targets all pass replaces the profile's targets; one
//     that fails leaves them as they were. The answer is 200 either way:
//     the result says what failed.
//   - retrieve validates the stored targets again (a group may have been
//     deleted or changed since); with none stored it answers
//     validationSucceeded true and an empty list of statuses.
//   - clear answers 204 whether or not targets were set.
//   - AOSP profiles and profiles with the deviceStaging token are refused
//     with 400: Intune offers enrollment-time grouping only for dedicated,
//     fully managed and corporate-owned work profile enrollment, and not
//     with device staging. The pages do not say how the service refuses.

// Target types and validation codes (metadata enums
// enrollmentTimeDeviceMembershipTargetType and
// enrollmentTimeDeviceMembershipTargetValidationErrorCode).
const (
	TargetStaticSecurityGroup = "staticSecurityGroup"

	CodeSecurityGroupNotFound         = "securityGroupNotFound"
	CodeNotSecurityGroup              = "notSecurityGroup"
	CodeNotStaticSecurityGroup        = "notStaticSecurityGroup"
	CodeFirstPartyAppNotAnOwner       = "firstPartyAppNotAnOwner"
	CodeSecurityGroupNotInCallerScope = "securityGroupNotInCallerScope"
)

const (
	targetODataType = "microsoft.graph.enrollmentTimeDeviceMembershipTarget"
	resultODataType = "microsoft.graph.enrollmentTimeDeviceMembershipTargetResult"
	statusODataType = "microsoft.graph.enrollmentTimeDeviceMembershipTargetStatus"
	setAction       = "setEnrollmentTimeDeviceMembershipTarget"
	setParameter    = "enrollmentTimeDeviceMembershipTargets"
)

// validateTargetLocked checks one group id against the group store and
// returns the validation error code, or "".
func (s *Server) validateTargetLocked(id string) string {
	g, ok := s.groupLocked(id)
	switch {
	case !profile.IsGUID(id) || !ok:
		return CodeSecurityGroupNotFound
	case !g.SecurityEnabled:
		return CodeNotSecurityGroup
	case g.Dynamic():
		return CodeNotStaticSecurityGroup
	case !ownedByProvisioningClient(g):
		return CodeFirstPartyAppNotAnOwner
	case g.OutOfScope:
		return CodeSecurityGroupNotInCallerScope
	}
	return ""
}

func ownedByProvisioningClient(g Group) bool {
	for _, o := range g.Owners {
		if o.Type == OwnerServicePrincipal && strings.EqualFold(o.AppID, IntuneProvisioningClientAppID) {
			return true
		}
	}
	return false
}

// resultLocked validates ids and renders the action's result document.
func (s *Server) resultLocked(x *exchange, ids []string) (obj, bool) {
	ok := true
	statuses := make([]obj, 0, len(ids))
	for _, id := range ids {
		code := s.validateTargetLocked(id)
		passed := code == ""
		if passed {
			code = CodeSecurityGroupNotFound // not nullable: the enum's first member
		} else {
			ok = false
		}
		statuses = append(statuses, obj{{"@odata.type", "#" + statusODataType}, {"targetId", id},
			{"validationSucceeded", passed}, {"targetValidationErrorCode", code}})
	}
	doc := obj{
		{"@odata.context", x.rt.base + "/$metadata#" + resultODataType},
		{"value", obj{{"@odata.type", "#" + resultODataType}, {"validationSucceeded", ok},
			{"enrollmentTimeDeviceMembershipTargetValidationStatuses", statuses}}},
	}
	return doc, ok
}

// parseTargets validates the set action's body and returns the target ids.
func parseTargets(body []byte) ([]string, *apiError) {
	m, aerr := parseObject(body)
	if aerr != nil {
		return nil, aerr
	}
	var raw json.RawMessage
	for k, v := range m {
		if k != setParameter {
			return nil, errorf(http.StatusBadRequest, "BadRequest",
				"The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", k, setAction)
		}
		raw = v
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, errorf(http.StatusBadRequest, "BadRequest",
			"Missing parameter %s: send {\"%s\": [{\"targetType\": \"staticSecurityGroup\", \"targetId\": \"<group id>\"}]}.", setParameter, setParameter)
	}
	var items []json.RawMessage
	if t[0] != '[' || json.Unmarshal(t, &items) != nil {
		return nil, errorf(http.StatusBadRequest, "BadRequest",
			"An unexpected '%s' node was found when reading from the JSON reader. A 'StartArray' node was expected. (parameter '%s')", nodeName(t[0]), setParameter)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		it = bytes.TrimSpace(it)
		var fields map[string]json.RawMessage
		if it[0] != '{' || json.Unmarshal(it, &fields) != nil {
			// Elements of a decoded array are never empty.
			return nil, errorf(http.StatusBadRequest, "BadRequest",
				"An unexpected '%s' node was found when reading from the JSON reader. A 'StartObject' node was expected.", nodeName(it[0]))
		}
		var id, typ string
		for k, v := range fields {
			switch k {
			case "@odata.type":
				var ot string
				if json.Unmarshal(v, &ot) != nil || strings.TrimPrefix(ot, "#") != targetODataType {
					return nil, errorf(http.StatusBadRequest, "BadRequest",
						"A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.Trim(string(v), `"`))
				}
			case "targetId":
				if string(bytes.TrimSpace(v)) != "null" && json.Unmarshal(v, &id) != nil {
					return nil, errorf(http.StatusBadRequest, "BadRequest",
						"Cannot convert the literal '%s' to the expected type 'Edm.String'. (property 'targetId')", strings.Trim(string(v), `"`))
				}
			case "targetType":
				if json.Unmarshal(v, &typ) != nil {
					return nil, errorf(http.StatusBadRequest, "BadRequest",
						"Cannot convert the literal '%s' to the expected type 'microsoft.graph.enrollmentTimeDeviceMembershipTargetType'. (property 'targetType')", strings.Trim(string(v), `"`))
				}
			default:
				return nil, errorf(http.StatusBadRequest, "BadRequest",
					"The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, targetODataType)
			}
		}
		// targetType is not nullable (metadata); only staticSecurityGroup
		// is a real member (unknownFutureValue is the evolvable-enum
		// sentinel).
		if typ != TargetStaticSecurityGroup {
			return nil, errorf(http.StatusBadRequest, "BadRequest",
				"Requested value '%s' was not found. (property 'targetType'; use '%s')", typ, TargetStaticSecurityGroup)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// targetsAllowed refuses profiles whose mode or token type has no
// enrollment-time grouping.
func targetsAllowed(x *exchange, p *profile.Profile) *apiError {
	why := ""
	switch {
	case profile.IsAOSP(p.EnrollmentMode):
		why = "Enrollment time device membership targets are not supported for enrollment mode '" + p.EnrollmentMode + "'."
	case p.EnrollmentTokenType == profile.TokenStaging:
		why = "Enrollment time device membership targets are not supported for enrollment token type '" + p.EnrollmentTokenType + "'."
	default:
		return nil
	}
	return intuneError(http.StatusBadRequest, "BadRequest", x.itemURL(x.rt.id), why)
}

// setTargets answers POST …/{id}/setEnrollmentTimeDeviceMembershipTarget.
func (s *Server) setTargets(x *exchange) reply {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	ids, aerr := parseTargets(body)
	if aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	if aerr := targetsAllowed(x, &s.recs[i].p); aerr != nil {
		return s.errorReply(x, aerr)
	}
	doc, passed := s.resultLocked(x, ids)
	if passed {
		// lastModifiedDateTime is left alone: the pages do not say the
		// action changes the profile itself.
		s.recs[i].targets = append([]string(nil), ids...)
	}
	return jsonReply(http.StatusOK, doc)
}

// noBody refuses a body on an action documented without one.
func noBody(x *exchange, action string) *apiError {
	body, aerr := readBody(x.r)
	if aerr != nil {
		return aerr
	}
	if len(bytes.TrimSpace(body)) > 0 {
		return errorf(http.StatusBadRequest, "BadRequest", "The action '%s' takes no request body.", action)
	}
	return nil
}

// retrieveTargets answers POST …/{id}/retrieveEnrollmentTimeDeviceMembershipTarget.
func (s *Server) retrieveTargets(x *exchange) reply {
	if aerr := noBody(x, "retrieveEnrollmentTimeDeviceMembershipTarget"); aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	doc, _ := s.resultLocked(x, s.recs[i].targets)
	return jsonReply(http.StatusOK, doc)
}

// clearTargets answers POST …/{id}/clearEnrollmentTimeDeviceMembershipTarget.
func (s *Server) clearTargets(x *exchange) reply {
	if aerr := noBody(x, "clearEnrollmentTimeDeviceMembershipTarget"); aerr != nil {
		return s.errorReply(x, aerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[x.rt.id]
	if !ok || s.recs[i].deleted {
		return s.errorReply(x, notFound(x))
	}
	s.recs[i].targets = nil
	return reply{status: http.StatusNoContent}
}
