{{/*
Names: every object is "<release fullname>-<role>"; one ServiceAccount per role.
*/}}
{{- define "temper.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "temper.name" -}}
{{- printf "%s-%s" (include "temper.fullname" .root) .role -}}
{{- end -}}

{{- define "temper.labels" -}}
app.kubernetes.io/name: temper
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/component: {{ .role }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "temper.selectorLabels" -}}
app.kubernetes.io/name: temper
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "temper.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
temper.conf: each map under .Values.config is a [section]; a map inside a
section is a [section.sub] table.  Strings are written with toJson, whose
escapes are valid TOML basic-string escapes.
*/}}
{{- define "temper.tomlValue" -}}
{{- if kindIs "string" . -}}
{{- toJson . -}}
{{- else if kindIs "bool" . -}}
{{- ternary "true" "false" . -}}
{{- else if or (kindIs "float64" .) (kindIs "int" .) (kindIs "int64" .) -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) -}}
{{- printf "%d" (int64 .) -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- else if kindIs "slice" . -}}
[{{- range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "temper.tomlValue" $v }}{{ end -}}]
{{- else -}}
{{- fail (printf "temper.conf: cannot write %v (%s) as TOML" . (kindOf .)) -}}
{{- end -}}
{{- end -}}

{{- define "temper.tomlSection" -}}
{{- $name := .name -}}
{{- $scalars := dict -}}
{{- $tables := dict -}}
{{- range $k, $v := .table -}}
{{- if kindIs "map" $v -}}{{- $_ := set $tables $k $v -}}{{- else -}}{{- $_ := set $scalars $k $v -}}{{- end -}}
{{- end }}
[{{ $name }}]
{{- range $k := keys $scalars | sortAlpha }}
{{ $k }} = {{ include "temper.tomlValue" (get $scalars $k) }}
{{- end }}
{{- range $k := keys $tables | sortAlpha }}
{{ include "temper.tomlSection" (dict "name" (printf "%s.%s" $name $k) "table" (get $tables $k)) }}
{{- end }}
{{- end -}}

{{- define "temper.conf" -}}
# temper.conf rendered by the temper chart from its values; see temper.conf(5).
{{- $config := deepCopy (default dict .Values.config) -}}
{{- $kube := default dict (get $config "kubernetes") -}}
{{- $_ := set $kube "legacy_annotations" .Values.legacyAnnotations -}}
{{- $_ := set $config "kubernetes" $kube -}}
{{- range $section := keys $config | sortAlpha }}
{{- $table := get $config $section }}
{{- if not (kindIs "map" $table) }}
{{- fail (printf "config.%s must be a map (a temper.conf section)" $section) }}
{{- end }}
{{- if $table }}
{{ include "temper.tomlSection" (dict "name" $section "table" $table) }}
{{- end }}
{{- end }}
{{ end -}}

{{/* The pod annotations that let Prometheus find a role's /metrics. */}}
{{- define "temper.scrapeAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- if .scheme }}
prometheus.io/scheme: {{ .scheme }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Probes every role shares: /healthz says the loop runs, /readyz says it can do its job. */}}
{{- define "temper.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: http, scheme: {{ default "HTTP" .scheme }}}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: http, scheme: {{ default "HTTP" .scheme }}}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{- define "temper.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
{{- end -}}
