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
{{- define "gvp.stomp.secret" -}}
{{- .Values.stompCredentials.existingSecret | default (printf "%s-stomp" (include "gvp.fullname" .)) -}}
{{- end -}}

{{- define "gvp.rm.clusterSecret" -}}
{{- .Values.clusterKey.existingSecret | default (printf "%s-rm-cluster" (include "gvp.fullname" .)) -}}
{{- end -}}

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
{{- if .Values.stompTLS.enabled -}}
{{- $tls := dict "enabled" true "ca_file" "/etc/gvp-tls/ca.crt" "verify" true -}}
{{- if .Values.stompTLS.requireClientCert -}}
{{- $_ := set $tls "cert_file" "/etc/gvp-tls-client/tls.crt" -}}
{{- $_ := set $tls "key_file" "/etc/gvp-tls-client/tls.key" -}}
{{- end -}}
{{- $_ := set $billing "tls" $tls -}}
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
{{- if .Values.stompTLS.enabled -}}
{{- $stomp := $cfg.stomp | default dict -}}
{{- $tls := dict "enabled" true "cert_file" "/etc/gvp-tls/tls.crt" "key_file" "/etc/gvp-tls/tls.key" -}}
{{- if .Values.stompTLS.requireClientCert -}}
{{- $_ := set $tls "ca_file" "/etc/gvp-tls/ca.crt" -}}
{{- $_ := set $tls "require_client_cert" true -}}
{{- end -}}
{{- $_ := set $stomp "tls" $tls -}}
{{- $_ := set $cfg "stomp" $stomp -}}
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

{{/* env of the rs containers: the PostgreSQL URL from a Secret, if one is named,
and the STOMP credentials (RS_STOMP_LOGIN / RS_STOMP_PASSCODE). */}}
{{- define "gvp.rs.env" -}}
{{- if or .Values.rs.postgres.existingSecret .Values.stompCredentials.enabled -}}
env:
{{- if .Values.rs.postgres.existingSecret }}
  - name: RS_PG_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.rs.postgres.existingSecret | quote }}
        key: {{ .Values.rs.postgres.secretKey | quote }}
{{- end }}
{{- if .Values.stompCredentials.enabled }}
{{- include "gvp.stomp.credentialsEnv" (dict "ctx" . "prefix" "RS_STOMP") | trim | nindent 2 }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Env entries PREFIX_LOGIN / PREFIX_PASSCODE from the STOMP credentials Secret;
call with (dict "ctx" $ "prefix" "RS_STOMP"). Empty when the credentials are off. */}}
{{- define "gvp.stomp.credentialsEnv" -}}
{{- if .ctx.Values.stompCredentials.enabled -}}
{{- range $k := list "login" "passcode" }}
- name: {{ printf "%s_%s" $.prefix (upper $k) }}
  valueFrom:
    secretKeyRef:
      name: {{ include "gvp.stomp.secret" $.ctx | quote }}
      key: {{ $k }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* volumeMounts / volumes of the STOMP TLS Secrets; call with (dict "ctx" $
"client" true|false): the client (rm) also mounts its own certificate when rs
requires one. */}}
{{- define "gvp.stomp.tlsMounts" -}}
{{- if .ctx.Values.stompTLS.enabled }}
- name: stomp-tls
  mountPath: /etc/gvp-tls
  readOnly: true
{{- if and .client .ctx.Values.stompTLS.requireClientCert }}
- name: stomp-tls-client
  mountPath: /etc/gvp-tls-client
  readOnly: true
{{- end }}
{{- end -}}
{{- end -}}
{{- define "gvp.stomp.tlsVolumes" -}}
{{- $t := .ctx.Values.stompTLS -}}
{{- if $t.enabled }}
- name: stomp-tls
  secret:
    secretName: {{ required "stompTLS.existingSecret must name a Secret (tls.crt, tls.key, ca.crt) when stompTLS.enabled" $t.existingSecret | quote }}
    {{- if .client }}
    items:
      - key: ca.crt
        path: ca.crt
    {{- end }}
{{- if and .client $t.requireClientCert }}
- name: stomp-tls-client
  secret:
    secretName: {{ default $t.existingSecret $t.clientSecret | quote }}
{{- end }}
{{- end -}}
{{- end -}}
