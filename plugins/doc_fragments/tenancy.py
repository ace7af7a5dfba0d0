# -*- coding: utf-8 -*-
# Copyright: Aphex platform engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Sends server-side dry runs only; objects whose namespace does not exist yet are previewed locally.
  diff_mode:
    support: full
    description: Shows the desired fields of each changed object before and after; Secret values are redacted.
  platform:
    support: full
    description: Runs on the controller (or any host with the C(kubernetes) Python client) against the cluster API.
    platforms: posix
notes:
  - Reads are one LIST per kind, sent concurrently; writes go kind by kind in dependency order, eight objects of a
    kind at a time. The first failed write stops the rest.
  - A successful run echoes its arguments (what C(-vvv) shows) with O(organizations) and O(pipelines) as counts,
    not the lists themselves, which are the inventory's; a failed run echoes them whole.
options:
  organizations:
    description:
      - The organizations of the inventory (C(aphex_organizations)), each a mapping with C(name) (a DNS label
        of at most 59 characters; namespace C(org-<name>)), C(display_name), C(admin_users) (email addresses),
        optional C(state) (C(present) or C(absent)), C(rotate_webhook_secret) and C(cascade).
      - C(rotate_webhook_secret), C(cascade) and a pipeline's C(isolation) are converted the way Ansible converts
        booleans (C(true)/C(false), C(yes)/C(no), C(on)/C(off), C(1)/C(0), any case, quoted or not); any other
        value is refused.
      - The whole inventory is validated before anything is written; every problem is reported at once,
        naming the tenant and the field.
    type: list
    elements: dict
    default: []
  pipelines:
    description:
      - The pipelines of the inventory (C(aphex_pipelines)), each a mapping with C(name) (a DNS label of at
        most 61 characters, unique across the inventory; the pipeline's namespace and AppProject),
        C(organization), C(repo) (GitHub C(owner/name)), C(pipeline) (a C(tekton.dev/v1) Pipeline as YAML
        text or a mapping), optional C(quota) (overrides of O(quota)), C(isolation), C(pull_requests) and
        C(state).
      - C(pull_requests) says whose pull requests run the pipeline - their code runs with the pipeline's identity,
        and anyone who can open one (a fork's author) writes it. C(trusted) (the default) the repository's owners,
        organization members and collaborators, as GitHub reports the author (C(author_association)); C(all)
        anyone; C(none) nobody. Pushes always run.
    type: list
    elements: dict
    default: []
  prune:
    description:
      - Remove managed tenants found in the cluster but missing from the inventory. In check mode they are
        only reported.
      - Without O(prune), such tenants are left exactly as they are (an organization's EventListener keeps
        serving its unlisted pipelines) and reported in RV(unlisted) with a warning.
      - A prune that would remove more than one tenant and more than 10% of the managed tenants, or any tenant
        while the inventory lists none, is refused, naming every tenant it would remove, unless O(prune_confirm)
        allows that many.
    type: bool
    default: false
  prune_confirm:
    description:
      - The number of tenants (organizations and pipelines) a large prune may remove; the refusal message says
        the number to give. Meant for one run (C(-e aphex_prune_confirm=N)), not for the inventory.
    type: int
    default: 0
  deletion_timeout:
    description:
      - Seconds to wait for a tenant object that is still being deleted (for example a namespace that is
        C(Terminating)) to be gone before it is created again; the task fails naming the objects after that.
    type: int
    default: 120
  validate_only:
    description:
      - Only validate O(organizations), O(pipelines) and O(quota), without connecting to the cluster; fails
        listing every problem (RV(problems) as well as the message). Roles run this before taking the run lock,
        so bad input is refused before anything, the lock included, is written.
    type: bool
    default: false
  lock_holder:
    description:
      - Identity of the run lock held by this run (M(aphex.platform.run_lock)). When set, the module refuses to
        write unless the lock is still held under that identity, so two runs never interleave their writes.
    type: str
  webhook_domain:
    description:
      - DNS zone of the organizations' public webhook endpoints, C(https://<org>.<webhook_domain>).
      - Empty when Cloudflare tunnels are not configured; the status then says so.
    type: str
    default: ""
  platform_namespace:
    description: Namespace of the C(Organization) and C(RepoBinding) record objects.
    type: str
    default: platform-system
  argocd_namespace:
    description: Namespace of ArgoCD, where AppProjects and the pipelines' RoleBindings live.
    type: str
    default: argocd
  isolation:
    description:
      - Give pipeline namespaces a ResourceQuota C(tenant-quota), a LimitRange C(tenant-limits) and a
        NetworkPolicy C(tenant-isolation) unless the pipeline entry sets C(isolation) itself.
    type: bool
    default: true
  quota:
    description:
      - Platform-wide overrides of the default quota (C(requests.cpu=4), C(limits.cpu=8),
        C(requests.memory=8Gi), C(limits.memory=16Gi), C(persistentvolumeclaims=5), C(pods=20)); a pipeline's
        own C(quota) wins over these.
    type: dict
    default: {}
  egress:
    description:
      - C(open) allows all egress from pipeline namespaces; C(restricted) allows the same namespace, DNS in
        C(kube-system) and public addresses only.
    type: str
    choices: [open, restricted]
    default: open
  ingress_namespaces:
    description:
      - Namespaces whose pods may reach pipeline pods through the network policy, besides the pipeline's own
        organization. The role C(aphex.platform.tenants) passes the namespaces of the ingress apps of the
        deployed catalog (C(ingress-system) on kind, C(traefik) on K3s).
    type: list
    elements: str
    default: []
  apps_domain:
    description:
      - The DNS zone of the tenants' own applications. Each pipeline may route C(<pipeline>.<apps_domain>) and its
        subdomains (Ingress rule and TLS hosts, Gateway API HTTPRoute hostnames) and nothing else; empty gives
        pipelines no host at all. The admission policy C(aphex-tenant-hosts) enforces it, whoever writes the route
        (ArgoCD included), so a tenant can never claim a platform host such as ArgoCD's or the sign-in pages'.
    type: str
    default: ""
  git_server_url:
    description:
      - The Git server the tenants' repositories live on, as an C(https) or C(http) URL without credentials -
        C(https://github.com), or a GitHub Enterprise Server's URL. Each pipeline's AppProject lets ArgoCD deploy
        from C(<git_server_url>/<repo>) and C(<git_server_url>/<repo>.git) only, the URLs GitHub gives the
        repository (its C(clone_url) is what the pipeline clones and deploys).
    type: str
    default: https://github.com
  tunnels:
    description:
      - Organizations get a C(cloudflared) Deployment (pinned image, token from the Secret C(cloudflared-token)
        written by M(aphex.platform.cloudflare_tunnel), metrics and C(/ready) probes, non-root, read-only root
        filesystem, resource requests and limits).
      - When off, M(aphex.platform.organization) warns once per run that organizations get no public webhook URL.
    type: bool
    default: false
  cloudflared_image:
    description:
      - Image of the C(cloudflared) connector.
      - Empty (the default) runs the release the collection pins (C(CLOUDFLARED_IMAGE) in
        C(plugins/module_utils/tenancy/render.py), the one place it is written).
    type: str
    default: ""
  cloudflared_replicas:
    description: Connector replicas per organization.
    type: int
    default: 2
"""
