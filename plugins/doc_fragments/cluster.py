# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Every option a cluster module takes. The connection options are kubernetes.core's (the same names, types,
    # aliases and K8S_AUTH_* variables, read by kubernetes.core's own code), documented here rather than through
    # its fragment kubernetes.core.k8s_auth_options: Galaxy's importer documents a collection without installing its
    # dependencies, so a fragment of another collection leaves every module's documentation unparsable there.
    # tests/unit/plugins/doc_fragments/test_cluster.py keeps the options equal to kubernetes.core's.
    DOCUMENTATION = r"""
options:
  host:
    description:
      - URL of the cluster's API server. When not given, E(K8S_AUTH_HOST) is read.
    type: str
  api_key:
    description:
      - Bearer token for the API server. When not given, E(K8S_AUTH_API_KEY) is read.
    type: str
  kubeconfig:
    description:
      - Path of a kubeconfig file, several paths joined with C(:), or a kubeconfig given as a dictionary. When not
        given (and neither O(host) with credentials nor the in-cluster service account applies), E(K8S_AUTH_KUBECONFIG),
        then E(KUBECONFIG), then C(~/.kube/config) is read.
      - When given, the E(K8S_AUTH_*) variables are not read at all, so that a variable left on a machine never sends
        the run to another cluster.
    type: raw
  context:
    description:
      - Context of the kubeconfig to use. When not given, E(K8S_AUTH_CONTEXT) is read, then the kubeconfig's current
        context.
    type: str
  username:
    description:
      - User name for basic authentication to the API server. When not given, E(K8S_AUTH_USERNAME) is read.
    type: str
  password:
    description:
      - Password for basic authentication to the API server. When not given, E(K8S_AUTH_PASSWORD) is read.
    type: str
  client_cert:
    description:
      - Path of a client certificate for authentication to the API server. When not given, E(K8S_AUTH_CLIENT_CERT)
        is read.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path of the key of O(client_cert). When not given, E(K8S_AUTH_CLIENT_KEY) is read.
    type: path
    aliases: [key_file]
  ca_cert:
    description:
      - Path of the certificate authority bundle the API server's certificate is checked against. When not given,
        E(K8S_AUTH_CA_CERT) is read.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether the API server's certificate is checked. When not given, E(K8S_AUTH_VALIDATE_CERTS) is read.
    type: bool
    aliases: [verify_ssl]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through. When not given, E(K8S_AUTH_PROXY) is read.
    type: str
  no_proxy:
    description:
      - Hosts (comma-separated) reached without O(proxy). When not given, E(K8S_AUTH_NO_PROXY) is read.
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication. When not given,
            E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH) is read.
        type: str
      basic_auth:
        description:
          - C(user:password) for a basic authentication header. When not given,
            E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) is read.
        type: str
      user_agent:
        description:
          - The user agent to send. When not given, E(K8S_AUTH_PROXY_HEADERS_USER_AGENT) is read.
        type: str
  persist_config:
    description:
      - Whether a refreshed token (an OIDC or exec credential) is written back to the kubeconfig file. When not given,
        E(K8S_AUTH_PERSIST_CONFIG) is read.
    type: bool
  impersonate_user:
    description:
      - User to act as (impersonation). When not given, E(K8S_AUTH_IMPERSONATE_USER) is read.
    type: str
  impersonate_groups:
    description:
      - Groups to act as, with O(impersonate_user). When not given, E(K8S_AUTH_IMPERSONATE_GROUPS) (comma-separated)
        is read.
    type: list
    elements: str
  request_timeout:
    description:
      - Seconds to wait for the API server to accept a connection (at most 10) and for each answer. A server that
        does not answer fails the task within this bound, naming the step and the object.
    type: int
    default: 30
notes:
  - The connection options are kubernetes.core's and are read by its own code, as M(kubernetes.core.k8s) reads them;
    options left unset fall back to their E(K8S_AUTH_*) environment variables, then to the in-cluster service
    account, then to C(~/.kube/config). A kubeconfig that is not there fails naming the file(s) looked for.
  - Set them once for every module of the collection (and kubernetes.core's k8s modules) with
    C(module_defaults) and the action group C(group/aphex.platform.cluster).
  - With O(validate_certs=true), the API server's whole certificate chain must be given through O(ca_cert) or
    the kubeconfig.
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""
