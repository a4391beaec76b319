{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "gvp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name: RELEASE-gvp, or RELEASE alone if it already contains the
chart name. The rm/rs suffixes are added by the callers, so keep room for them. */}}
{{- define "gvp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gvp.rm.fullname" -}}{{ include "gvp.fullname" . }}-rm{{- end -}}
{{- define "gvp.rs.fullname" -}}{{ include "gvp.fullname" . }}-rs{{- end -}}
{{- define "gvp.rm.peers" -}}{{ include "gvp.fullname" . }}-rm-peers{{- end -}}
{{- define "gvp.rs.headless" -}}{{ include "gvp.fullname" . }}-rs-headless{{- end -}}

{{- define "gvp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels; call with (dict "ctx" $ "component" "rm"). */}}
{{- define "gvp.labels" -}}
helm.sh/chart: {{ include "gvp.chart" .ctx }}
{{ include "gvp.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: gvp
{{- end -}}

{{- define "gvp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gvp.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* image reference; call with (dict "ctx" $ "image" .Values.rm.image). */}}
{{- define "gvp.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* rm.json: values.rm.config plus what only the chart knows (cluster peers, the rs
address). */}}
{{- define "gvp.rm.config" -}}
{{- $cfg := deepCopy .Values.rm.config -}}
{{- $cluster := $cfg.cluster | default dict -}}
{{- if not $cluster.peers -}}
{{- $peers := list -}}
{{- $peerPort := int (default 9801 $cluster.port) -}}
{{- range $i, $e := until (int .Values.rm.replicas) -}}
{{- $peers = append $peers (printf "%s-%d.%s.%s.svc:%d" (include "gvp.rm.fullname" $) $i (include "gvp.rm.peers" $) $.Release.Namespace $peerPort) -}}
{{- end -}}
{{- $_ := set $cluster "peers" $peers -}}
{{- end -}}
{{- $_ := set $cfg "cluster" $cluster -}}
{{- $billing := $cfg.billing | default dict -}}
{{- if not $billing.endpoints -}}
{{- $_ := set $billing "endpoints" (list (printf "%s.%s.svc:%d" (include "gvp.rs.fullname" .) .Release.Namespace (int .Values.rs.config.stomp.port))) -}}
{{- end -}}
{{- $_ := set $cfg "billing" $billing -}}
{{- toPrettyJson $cfg -}}
{{- end -}}

{{/* rs.json: values.rs.config; PostgreSQL when a Secret with its URL is named. */}}
{{- define "gvp.rs.config" -}}
{{- $cfg := deepCopy .Values.rs.config -}}
{{- if .Values.rs.postgres.existingSecret -}}
{{- $storage := $cfg.storage | default dict -}}
{{- $_ := set $storage "backend" "postgresql" -}}
{{- $_ := set $cfg "storage" $storage -}}
{{- end -}}
{{- toPrettyJson $cfg -}}
{{- end -}}

{{/* The snmp-exporter sidecar container; call with (dict "ctx" $). Prometheus
scrapes it at :PORT/snmp?module=gvp_rm (or gvp_rs)&target=snmpExporter.target. */}}
{{- define "gvp.snmpExporter.container" -}}
{{- $se := .ctx.Values.snmpExporter -}}
- name: snmp-exporter
  image: {{ printf "%s:%s" $se.image.repository $se.image.tag | quote }}
  imagePullPolicy: {{ $se.image.pullPolicy }}
  args:
    - --config.file=/etc/snmp_exporter/snmp.yml
    - --web.listen-address=:{{ $se.port }}
  ports:
    - name: snmp-exporter
      containerPort: {{ $se.port }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /
      port: snmp-exporter
  readinessProbe:
    httpGet:
      path: /
      port: snmp-exporter
  securityContext:
    {{- toYaml .ctx.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml $se.resources | nindent 4 }}
  volumeMounts:
    - name: snmp-exporter-config
      mountPath: /etc/snmp_exporter
      readOnly: true
{{- end -}}

{{/* env of the rs containers: the PostgreSQL URL from a Secret, if one is named. */}}
{{- define "gvp.rs.env" -}}
{{- if .Values.rs.postgres.existingSecret -}}
env:
  - name: RS_PG_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.rs.postgres.existingSecret | quote }}
        key: {{ .Values.rs.postgres.secretKey | quote }}
{{- end -}}
{{- end -}}
