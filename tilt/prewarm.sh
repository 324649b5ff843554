#!/usr/bin/env bash
# Scale FanVote up ahead of a known broadcast, and back down after it.
#
#   tilt/prewarm.sh ingress=20 tally=6 results=8   raise each app's floor and wait until that many pods are ready
#   tilt/prewarm.sh --reset                        put every floor back to what tilt/k8s/<app>.yaml says
#
# For an app with a HorizontalPodAutoscaler (ingress, tally, results) the floor is the HPA's minReplicas: the HPA
# still scales above it during the vote, it only stops scaling below it (and maxReplicas is raised if needed).
# Other apps are scaled directly. How many of each: README.md, "Capacity planning". Pre-warm some minutes
# before the vote opens: new pods need to pull, start and pass /healthz, and a scale-up from CPU alone reacts
# only after the step has hit the running pods.
# Environment: FANVOTE_NAMESPACE (default fanvote), FANVOTE_PREWARM_TIMEOUT seconds (default 600); kubectl's context.
set -euo pipefail

NS="${FANVOTE_NAMESPACE:-fanvote}"
TIMEOUT="${FANVOTE_PREWARM_TIMEOUT:-600}"
K8S_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/k8s" && pwd)"

say() { printf 'prewarm: %s\n' "$*" >&2; }
die() { printf 'prewarm: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

has_hpa() { kubectl -n "$NS" get hpa "$1" >/dev/null 2>&1; }

# The value of FIELD in the document of kind KIND of tilt/k8s/APP.yaml (the floor the manifests declare).
manifest_value() {
  local app="$1" kind="$2" field="$3"
  awk -v kind="$kind" -v field="$field" '
    /^---/ { in_kind = 0 }
    $1 == "kind:" && $2 == kind { in_kind = 1 }
    in_kind && $1 == field":" { print $2; exit }
  ' "$K8S_DIR/$app.yaml"
}

set_floor() {
  local app="$1" n="$2"
  [ -f "$K8S_DIR/$app.yaml" ] || die "no app '$app' (expected $K8S_DIR/$app.yaml)"
  if has_hpa "$app"; then
    local max
    max="$(kubectl -n "$NS" get hpa "$app" -o jsonpath='{.spec.maxReplicas}')"
    [ "$n" -gt "$max" ] && max="$n"
    kubectl -n "$NS" patch hpa "$app" --type merge -p "{\"spec\":{\"minReplicas\":$n,\"maxReplicas\":$max}}" >/dev/null
    # The HPA acts on its next sync; scaling now saves that wait (it never goes below its floor afterwards).
    local current
    current="$(kubectl -n "$NS" get deployment "$app" -o jsonpath='{.spec.replicas}')"
    [ "$current" -lt "$n" ] && kubectl -n "$NS" scale deployment "$app" --replicas="$n" >/dev/null
    say "$app: HPA floor $n (max $max)"
  else
    kubectl -n "$NS" scale deployment "$app" --replicas="$n" >/dev/null
    say "$app: $n replicas"
  fi
}

wait_ready() {
  local app="$1" n="$2" deadline=$((SECONDS + TIMEOUT)) ready
  while :; do
    ready="$(kubectl -n "$NS" get deployment "$app" -o jsonpath='{.status.readyReplicas}')"
    [ "${ready:-0}" -ge "$n" ] && { say "$app: ${ready} ready"; return 0; }
    [ "$SECONDS" -ge "$deadline" ] && die "$app: only ${ready:-0} of $n pods ready after ${TIMEOUT}s (kubectl -n $NS describe deployment $app)"
    sleep 5
  done
}

reset() {
  local f app min max replicas
  for f in "$K8S_DIR"/*.yaml; do
    app="$(basename "$f" .yaml)"
    kubectl -n "$NS" get deployment "$app" >/dev/null 2>&1 || continue
    if has_hpa "$app"; then
      min="$(manifest_value "$app" HorizontalPodAutoscaler minReplicas)"
      max="$(manifest_value "$app" HorizontalPodAutoscaler maxReplicas)"
      kubectl -n "$NS" patch hpa "$app" --type merge -p "{\"spec\":{\"minReplicas\":$min,\"maxReplicas\":$max}}" >/dev/null
      say "$app: HPA floor back to $min (max $max); the HPA scales down as load allows"
    else
      replicas="$(manifest_value "$app" Deployment replicas)"
      kubectl -n "$NS" scale deployment "$app" --replicas="$replicas" >/dev/null
      say "$app: back to $replicas replicas"
    fi
  done
}

[ $# -gt 0 ] || { usage; exit 2; }
case "$1" in
  -h|--help) usage; exit 0 ;;
  --reset) reset; exit 0 ;;
esac

declare -a apps=() counts=()
for arg in "$@"; do
  [[ "$arg" =~ ^([a-z-]+)=([0-9]+)$ ]] || die "expected APP=COUNT (e.g. ingress=20), got '$arg'"
  apps+=("${BASH_REMATCH[1]}"); counts+=("${BASH_REMATCH[2]}")
done
for i in "${!apps[@]}"; do set_floor "${apps[$i]}" "${counts[$i]}"; done
for i in "${!apps[@]}"; do wait_ready "${apps[$i]}" "${counts[$i]}"; done
say "done: pre-warmed. Undo after the vote with: $0 --reset"
