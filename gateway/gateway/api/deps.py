"""The gateway's dependency aliases: each route names the collaborators it needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.audit.access_log import AccessRecorder
from gateway.collaborators import Collaborators, audit_reader, authenticated, operator
from gateway.identity.accounts import OneTimeCodes
from gateway.identity.face import FaceChecks, FaceVerifier
from gateway.identity.principal import Principal
from gateway.identity.real_name import RealNameBinding
from gateway.identity.sessions import SessionStore
from gateway.identity.sign_in import SignIn
from gateway.identity.tokens import Keyring
from gateway.routing.authorisation import Authoriser
from gateway.routing.calls import Services
from gateway.routing.proxy import Forwarder
from gateway.settings import Settings
from yiwang_platform.deps import part_of, settings_of
from yiwang_platform.keyvalue import KeyValueStore

CallerDep = Annotated[Principal, Depends(authenticated)]
SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
KeyValueDep = Annotated[KeyValueStore, Depends(part_of(Collaborators, lambda c: c.kv))]
KeyringDep = Annotated[Keyring, Depends(part_of(Collaborators, lambda c: c.keyring))]
SignInsDep = Annotated[SessionStore, Depends(part_of(Collaborators, lambda c: c.sign_ins))]
CodesDep = Annotated[OneTimeCodes, Depends(part_of(Collaborators, lambda c: c.codes))]
SignInDep = Annotated[SignIn, Depends(part_of(Collaborators, lambda c: c.sign_in))]
RealNameBindingDep = Annotated[
    RealNameBinding, Depends(part_of(Collaborators, lambda c: c.real_name_binding))
]
FaceChecksDep = Annotated[FaceChecks, Depends(part_of(Collaborators, lambda c: c.face_checks))]
FaceVerifierDep = Annotated[
    FaceVerifier, Depends(part_of(Collaborators, lambda c: c.face_verifier))
]
ServicesDep = Annotated[Services, Depends(part_of(Collaborators, lambda c: c.services))]
AuthoriserDep = Annotated[Authoriser, Depends(part_of(Collaborators, lambda c: c.authoriser))]
ForwarderDep = Annotated[Forwarder, Depends(part_of(Collaborators, lambda c: c.forwarder))]
RecorderDep = Annotated[AccessRecorder, Depends(part_of(Collaborators, lambda c: c.recorder))]
AuditReaderDep = Annotated[Principal, Depends(audit_reader)]
OperatorDep = Annotated[Principal, Depends(operator)]
