{{/*
temper.deployment: a Deployment of one temperd role.
  root, role, values (the role's values), args (extra flags), tls (mount
  the webhook's certificate), volumes, mounts.
*/}}
{{- define "temper.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $scheme := ternary "HTTPS" "HTTP" (not (empty .tls)) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "temper.name" (dict "root" $root "role" .role) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "temper.labels" (dict "root" $root "role" .role) | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  selector:
    matchLabels:
      {{- include "temper.selectorLabels" (dict "root" $root "role" .role) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "temper.selectorLabels" (dict "root" $root "role" .role) | nindent 8 }}
        temper.io/role: {{ .role }}
      annotations:
        checksum/config: {{ include "temper.conf" $root | sha256sum }}
        {{- include "temper.scrapeAnnotations" (dict "root" $root "port" $v.port "scheme" (ternary "https" "" (not (empty .tls)))) | trim | nindent 8 }}
    spec:
      serviceAccountName: {{ include "temper.name" (dict "root" $root "role" .role) }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if gt (int $v.replicas) 1 }}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "temper.selectorLabels" (dict "root" $root "role" .role) | nindent 20 }}
      {{- end }}
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: temperd
          image: {{ include "temper.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            - --role={{ .role }}
            - --config=/etc/temper/temper.conf
            - --listen=0.0.0.0:{{ $v.port }}
            - --state-dir=/run/temper
            {{- if .tls }}
            - --tls-cert=/etc/temper-tls/tls.crt
            - --tls-key=/etc/temper-tls/tls.key
            {{- end }}
          ports:
            - {name: http, containerPort: {{ $v.port }}, protocol: TCP}
          {{- include "temper.probes" (dict "scheme" $scheme) | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          {{- include "temper.containerSecurity" . | nindent 10 }}
          volumeMounts:
            - {name: config, mountPath: /etc/temper, readOnly: true}
            - {name: run, mountPath: /run/temper}
            {{- if .tls }}
            - {name: tls, mountPath: /etc/temper-tls, readOnly: true}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "temper.fullname" $root }}-config
            items:
              - {key: temper.conf, path: temper.conf}
        - name: run
          emptyDir: {}
        {{- if .tls }}
        - name: tls
          secret:
            secretName: {{ .tls }}
        {{- end }}
{{- end -}}
