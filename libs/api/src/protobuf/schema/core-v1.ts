import { type SchemaPackage } from './package.js';

/** k8s.io.api.core.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const coreV1: SchemaPackage = {
  name: 'k8s.io.api.core.v1',
  messages: {
    Namespace: `
      1 metadata meta.ObjectMeta
      2 spec NamespaceSpec
      3 status NamespaceStatus
    `,
    NamespaceSpec: `
      1 finalizers []string
    `,
    NamespaceStatus: `
      1 phase string
      2 conditions []NamespaceCondition
    `,
    NamespaceCondition: `
      1 type string always
      2 status string always
      4 lastTransitionTime Time
      5 reason string
      6 message string
    `,
    Node: `
      1 metadata meta.ObjectMeta
      2 spec NodeSpec
      3 status NodeStatus
    `,
    NodeSpec: `
      1 podCIDR string
      7 podCIDRs []string
      3 providerID string
      4 unschedulable bool
      5 taints []Taint
      6 configSource *NodeConfigSource
      2 externalID string
    `,
    Taint: `
      1 key string always
      2 value string
      3 effect string always
      4 timeAdded *Time
    `,
    NodeConfigSource: `
      2 configMap *ConfigMapNodeConfigSource
    `,
    ConfigMapNodeConfigSource: `
      1 namespace string always
      2 name string always
      3 uid string
      4 resourceVersion string
      5 kubeletConfigKey string always
    `,
    NodeStatus: `
      1 capacity map<string,Quantity>
      2 allocatable map<string,Quantity>
      3 phase string
      4 conditions []NodeCondition
      5 addresses []NodeAddress
      6 daemonEndpoints NodeDaemonEndpoints
      7 nodeInfo NodeSystemInfo
      8 images []ContainerImage
      9 volumesInUse []string
      10 volumesAttached []AttachedVolume
      11 config *NodeConfigStatus
      12 runtimeHandlers []NodeRuntimeHandler
      13 features *NodeFeatures
    `,
    NodeCondition: `
      1 type string always
      2 status string always
      3 lastHeartbeatTime Time
      4 lastTransitionTime Time
      5 reason string
      6 message string
    `,
    NodeAddress: `
      1 type string always
      2 address string always
    `,
    NodeDaemonEndpoints: `
      1 kubeletEndpoint DaemonEndpoint
    `,
    DaemonEndpoint: `
      1 Port int32 always
    `,
    NodeSystemInfo: `
      1 machineID string always
      2 systemUUID string always
      3 bootID string always
      4 kernelVersion string always
      5 osImage string always
      6 containerRuntimeVersion string always
      7 kubeletVersion string always
      8 kubeProxyVersion string always
      9 operatingSystem string always
      10 architecture string always
      11 swap *NodeSwapStatus
    `,
    NodeSwapStatus: `
      1 capacity *int64
    `,
    ContainerImage: `
      1 names []string always
      2 sizeBytes int64
    `,
    AttachedVolume: `
      1 name string always
      2 devicePath string always
    `,
    NodeConfigStatus: `
      1 assigned *NodeConfigSource
      2 active *NodeConfigSource
      3 lastKnownGood *NodeConfigSource
      4 error string
    `,
    NodeRuntimeHandler: `
      1 name string always
      2 features *NodeRuntimeHandlerFeatures
    `,
    NodeRuntimeHandlerFeatures: `
      1 recursiveReadOnlyMounts *bool
      2 userNamespaces *bool
    `,
    NodeFeatures: `
      1 supplementalGroupsPolicy *bool
    `,
    Pod: `
      1 metadata meta.ObjectMeta
      2 spec PodSpec
      3 status PodStatus
    `,
    PodSpec: `
      1 volumes []Volume
      20 initContainers []Container
      2 containers []Container always
      34 ephemeralContainers []EphemeralContainer
      3 restartPolicy string
      4 terminationGracePeriodSeconds *int64
      5 activeDeadlineSeconds *int64
      6 dnsPolicy string
      7 nodeSelector map<string,string>
      8 serviceAccountName string
      9 serviceAccount string
      21 automountServiceAccountToken *bool
      10 nodeName string
      11 hostNetwork bool
      12 hostPID bool
      13 hostIPC bool
      27 shareProcessNamespace *bool
      14 securityContext *PodSecurityContext
      15 imagePullSecrets []LocalObjectReference
      16 hostname string
      17 subdomain string
      18 affinity *Affinity
      19 schedulerName string
      22 tolerations []Toleration
      23 hostAliases []HostAlias
      24 priorityClassName string
      25 priority *int32
      26 dnsConfig *PodDNSConfig
      28 readinessGates []PodReadinessGate
      29 runtimeClassName *string
      30 enableServiceLinks *bool
      31 preemptionPolicy *string
      32 overhead map<string,Quantity>
      33 topologySpreadConstraints []TopologySpreadConstraint
      35 setHostnameAsFQDN *bool
      36 os *PodOS
      37 hostUsers *bool
      38 schedulingGates []PodSchedulingGate
      39 resourceClaims []PodResourceClaim
      40 resources *ResourceRequirements
    `,
    Volume: `
      1 name string always
      2 volumeSource VolumeSource inline
    `,
    VolumeSource: `
      1 hostPath *HostPathVolumeSource
      2 emptyDir *EmptyDirVolumeSource
      3 gcePersistentDisk *GCEPersistentDiskVolumeSource
      4 awsElasticBlockStore *AWSElasticBlockStoreVolumeSource
      5 gitRepo *GitRepoVolumeSource
      6 secret *SecretVolumeSource
      7 nfs *NFSVolumeSource
      8 iscsi *ISCSIVolumeSource
      9 glusterfs *GlusterfsVolumeSource
      10 persistentVolumeClaim *PersistentVolumeClaimVolumeSource
      11 rbd *RBDVolumeSource
      12 flexVolume *FlexVolumeSource
      13 cinder *CinderVolumeSource
      14 cephfs *CephFSVolumeSource
      15 flocker *FlockerVolumeSource
      16 downwardAPI *DownwardAPIVolumeSource
      17 fc *FCVolumeSource
      18 azureFile *AzureFileVolumeSource
      19 configMap *ConfigMapVolumeSource
      20 vsphereVolume *VsphereVirtualDiskVolumeSource
      21 quobyte *QuobyteVolumeSource
      22 azureDisk *AzureDiskVolumeSource
      23 photonPersistentDisk *PhotonPersistentDiskVolumeSource
      26 projected *ProjectedVolumeSource
      24 portworxVolume *PortworxVolumeSource
      25 scaleIO *ScaleIOVolumeSource
      27 storageos *StorageOSVolumeSource
      28 csi *CSIVolumeSource
      29 ephemeral *EphemeralVolumeSource
      30 image *ImageVolumeSource
    `,
    HostPathVolumeSource: `
      1 path string always
      2 type *string
    `,
    EmptyDirVolumeSource: `
      1 medium string
      2 sizeLimit *Quantity
    `,
    GCEPersistentDiskVolumeSource: `
      1 pdName string always
      2 fsType string
      3 partition int32
      4 readOnly bool
    `,
    AWSElasticBlockStoreVolumeSource: `
      1 volumeID string always
      2 fsType string
      3 partition int32
      4 readOnly bool
    `,
    GitRepoVolumeSource: `
      1 repository string always
      2 revision string
      3 directory string
    `,
    SecretVolumeSource: `
      1 secretName string
      2 items []KeyToPath
      3 defaultMode *int32
      4 optional *bool
    `,
    KeyToPath: `
      1 key string always
      2 path string always
      3 mode *int32
    `,
    NFSVolumeSource: `
      1 server string always
      2 path string always
      3 readOnly bool
    `,
    ISCSIVolumeSource: `
      1 targetPortal string always
      2 iqn string always
      3 lun int32 always
      4 iscsiInterface string
      5 fsType string
      6 readOnly bool
      7 portals []string
      8 chapAuthDiscovery bool
      11 chapAuthSession bool
      10 secretRef *LocalObjectReference
      12 initiatorName *string
    `,
    LocalObjectReference: `
      1 name string
    `,
    GlusterfsVolumeSource: `
      1 endpoints string always
      2 path string always
      3 readOnly bool
    `,
    PersistentVolumeClaimVolumeSource: `
      1 claimName string always
      2 readOnly bool
    `,
    RBDVolumeSource: `
      1 monitors []string always
      2 image string always
      3 fsType string
      4 pool string
      5 user string
      6 keyring string
      7 secretRef *LocalObjectReference
      8 readOnly bool
    `,
    FlexVolumeSource: `
      1 driver string always
      2 fsType string
      3 secretRef *LocalObjectReference
      4 readOnly bool
      5 options map<string,string>
    `,
    CinderVolumeSource: `
      1 volumeID string always
      2 fsType string
      3 readOnly bool
      4 secretRef *LocalObjectReference
    `,
    CephFSVolumeSource: `
      1 monitors []string always
      2 path string
      3 user string
      4 secretFile string
      5 secretRef *LocalObjectReference
      6 readOnly bool
    `,
    FlockerVolumeSource: `
      1 datasetName string
      2 datasetUUID string
    `,
    DownwardAPIVolumeSource: `
      1 items []DownwardAPIVolumeFile
      2 defaultMode *int32
    `,
    DownwardAPIVolumeFile: `
      1 path string always
      2 fieldRef *ObjectFieldSelector
      3 resourceFieldRef *ResourceFieldSelector
      4 mode *int32
    `,
    ObjectFieldSelector: `
      1 apiVersion string
      2 fieldPath string always
    `,
    ResourceFieldSelector: `
      1 containerName string
      2 resource string always
      3 divisor Quantity
    `,
    FCVolumeSource: `
      1 targetWWNs []string
      2 lun *int32
      3 fsType string
      4 readOnly bool
      5 wwids []string
    `,
    AzureFileVolumeSource: `
      1 secretName string always
      2 shareName string always
      3 readOnly bool
    `,
    ConfigMapVolumeSource: `
      1 localObjectReference LocalObjectReference inline
      2 items []KeyToPath
      3 defaultMode *int32
      4 optional *bool
    `,
    VsphereVirtualDiskVolumeSource: `
      1 volumePath string always
      2 fsType string
      3 storagePolicyName string
      4 storagePolicyID string
    `,
    QuobyteVolumeSource: `
      1 registry string always
      2 volume string always
      3 readOnly bool
      4 user string
      5 group string
      6 tenant string
    `,
    AzureDiskVolumeSource: `
      1 diskName string always
      2 diskURI string always
      3 cachingMode *string
      4 fsType *string
      5 readOnly *bool
      6 kind *string
    `,
    PhotonPersistentDiskVolumeSource: `
      1 pdID string always
      2 fsType string
    `,
    ProjectedVolumeSource: `
      1 sources []VolumeProjection always
      2 defaultMode *int32
    `,
    VolumeProjection: `
      1 secret *SecretProjection
      2 downwardAPI *DownwardAPIProjection
      3 configMap *ConfigMapProjection
      4 serviceAccountToken *ServiceAccountTokenProjection
      5 clusterTrustBundle *ClusterTrustBundleProjection
    `,
    SecretProjection: `
      1 localObjectReference LocalObjectReference inline
      2 items []KeyToPath
      4 optional *bool
    `,
    DownwardAPIProjection: `
      1 items []DownwardAPIVolumeFile
    `,
    ConfigMapProjection: `
      1 localObjectReference LocalObjectReference inline
      2 items []KeyToPath
      4 optional *bool
    `,
    ServiceAccountTokenProjection: `
      1 audience string
      2 expirationSeconds *int64
      3 path string always
    `,
    ClusterTrustBundleProjection: `
      1 name *string
      2 signerName *string
      3 labelSelector *meta.LabelSelector
      5 optional *bool
      4 path string always
    `,
    PortworxVolumeSource: `
      1 volumeID string always
      2 fsType string
      3 readOnly bool
    `,
    ScaleIOVolumeSource: `
      1 gateway string always
      2 system string always
      3 secretRef *LocalObjectReference always
      4 sslEnabled bool
      5 protectionDomain string
      6 storagePool string
      7 storageMode string
      8 volumeName string
      9 fsType string
      10 readOnly bool
    `,
    StorageOSVolumeSource: `
      1 volumeName string
      2 volumeNamespace string
      3 fsType string
      4 readOnly bool
      5 secretRef *LocalObjectReference
    `,
    CSIVolumeSource: `
      1 driver string always
      2 readOnly *bool
      3 fsType *string
      4 volumeAttributes map<string,string>
      5 nodePublishSecretRef *LocalObjectReference
    `,
    EphemeralVolumeSource: `
      1 volumeClaimTemplate *PersistentVolumeClaimTemplate
    `,
    PersistentVolumeClaimTemplate: `
      1 metadata meta.ObjectMeta
      2 spec PersistentVolumeClaimSpec always
    `,
    PersistentVolumeClaimSpec: `
      1 accessModes []string
      4 selector *meta.LabelSelector
      2 resources VolumeResourceRequirements
      3 volumeName string
      5 storageClassName *string
      6 volumeMode *string
      7 dataSource *TypedLocalObjectReference
      8 dataSourceRef *TypedObjectReference
      9 volumeAttributesClassName *string
    `,
    VolumeResourceRequirements: `
      1 limits map<string,Quantity>
      2 requests map<string,Quantity>
    `,
    TypedLocalObjectReference: `
      1 apiGroup *string always
      2 kind string always
      3 name string always
    `,
    TypedObjectReference: `
      1 apiGroup *string always
      2 kind string always
      3 name string always
      4 namespace *string
    `,
    ImageVolumeSource: `
      1 reference string
      2 pullPolicy string
    `,
    Container: `
      1 name string always
      2 image string
      3 command []string
      4 args []string
      5 workingDir string
      6 ports []ContainerPort
      19 envFrom []EnvFromSource
      7 env []EnvVar
      8 resources ResourceRequirements
      23 resizePolicy []ContainerResizePolicy
      24 restartPolicy *string
      9 volumeMounts []VolumeMount
      21 volumeDevices []VolumeDevice
      10 livenessProbe *Probe
      11 readinessProbe *Probe
      22 startupProbe *Probe
      12 lifecycle *Lifecycle
      13 terminationMessagePath string
      20 terminationMessagePolicy string
      14 imagePullPolicy string
      15 securityContext *SecurityContext
      16 stdin bool
      17 stdinOnce bool
      18 tty bool
    `,
    ContainerPort: `
      1 name string
      2 hostPort int32
      3 containerPort int32 always
      4 protocol string
      5 hostIP string
    `,
    EnvFromSource: `
      1 prefix string
      2 configMapRef *ConfigMapEnvSource
      3 secretRef *SecretEnvSource
    `,
    ConfigMapEnvSource: `
      1 localObjectReference LocalObjectReference inline
      2 optional *bool
    `,
    SecretEnvSource: `
      1 localObjectReference LocalObjectReference inline
      2 optional *bool
    `,
    EnvVar: `
      1 name string always
      2 value string
      3 valueFrom *EnvVarSource
    `,
    EnvVarSource: `
      1 fieldRef *ObjectFieldSelector
      2 resourceFieldRef *ResourceFieldSelector
      3 configMapKeyRef *ConfigMapKeySelector
      4 secretKeyRef *SecretKeySelector
    `,
    ConfigMapKeySelector: `
      1 localObjectReference LocalObjectReference inline
      2 key string always
      3 optional *bool
    `,
    SecretKeySelector: `
      1 localObjectReference LocalObjectReference inline
      2 key string always
      3 optional *bool
    `,
    ResourceRequirements: `
      1 limits map<string,Quantity>
      2 requests map<string,Quantity>
      3 claims []ResourceClaim
    `,
    ResourceClaim: `
      1 name string always
      2 request string
    `,
    ContainerResizePolicy: `
      1 resourceName string always
      2 restartPolicy string always
    `,
    VolumeMount: `
      1 name string always
      2 readOnly bool
      7 recursiveReadOnly *string
      3 mountPath string always
      4 subPath string
      5 mountPropagation *string
      6 subPathExpr string
    `,
    VolumeDevice: `
      1 name string always
      2 devicePath string always
    `,
    Probe: `
      1 handler ProbeHandler inline
      2 initialDelaySeconds int32
      3 timeoutSeconds int32
      4 periodSeconds int32
      5 successThreshold int32
      6 failureThreshold int32
      7 terminationGracePeriodSeconds *int64
    `,
    ProbeHandler: `
      1 exec *ExecAction
      2 httpGet *HTTPGetAction
      3 tcpSocket *TCPSocketAction
      4 grpc *GRPCAction
    `,
    ExecAction: `
      1 command []string
    `,
    HTTPGetAction: `
      1 path string
      2 port IntOrString always
      3 host string
      4 scheme string
      5 httpHeaders []HTTPHeader
    `,
    HTTPHeader: `
      1 name string always
      2 value string always
    `,
    TCPSocketAction: `
      1 port IntOrString always
      2 host string
    `,
    GRPCAction: `
      1 port int32 always
      2 service *string always
    `,
    Lifecycle: `
      1 postStart *LifecycleHandler
      2 preStop *LifecycleHandler
      3 stopSignal *string
    `,
    LifecycleHandler: `
      1 exec *ExecAction
      2 httpGet *HTTPGetAction
      3 tcpSocket *TCPSocketAction
      4 sleep *SleepAction
    `,
    SleepAction: `
      1 seconds int64 always
    `,
    SecurityContext: `
      1 capabilities *Capabilities
      2 privileged *bool
      3 seLinuxOptions *SELinuxOptions
      10 windowsOptions *WindowsSecurityContextOptions
      4 runAsUser *int64
      8 runAsGroup *int64
      5 runAsNonRoot *bool
      6 readOnlyRootFilesystem *bool
      7 allowPrivilegeEscalation *bool
      9 procMount *string
      11 seccompProfile *SeccompProfile
      12 appArmorProfile *AppArmorProfile
    `,
    Capabilities: `
      1 add []string
      2 drop []string
    `,
    SELinuxOptions: `
      1 user string
      2 role string
      3 type string
      4 level string
    `,
    WindowsSecurityContextOptions: `
      1 gmsaCredentialSpecName *string
      2 gmsaCredentialSpec *string
      3 runAsUserName *string
      4 hostProcess *bool
    `,
    SeccompProfile: `
      1 type string always
      2 localhostProfile *string
    `,
    AppArmorProfile: `
      1 type string always
      2 localhostProfile *string
    `,
    EphemeralContainer: `
      1 ephemeralContainerCommon EphemeralContainerCommon inline
      2 targetContainerName string
    `,
    EphemeralContainerCommon: `
      1 name string always
      2 image string
      3 command []string
      4 args []string
      5 workingDir string
      6 ports []ContainerPort
      19 envFrom []EnvFromSource
      7 env []EnvVar
      8 resources ResourceRequirements
      23 resizePolicy []ContainerResizePolicy
      24 restartPolicy *string
      9 volumeMounts []VolumeMount
      21 volumeDevices []VolumeDevice
      10 livenessProbe *Probe
      11 readinessProbe *Probe
      22 startupProbe *Probe
      12 lifecycle *Lifecycle
      13 terminationMessagePath string
      20 terminationMessagePolicy string
      14 imagePullPolicy string
      15 securityContext *SecurityContext
      16 stdin bool
      17 stdinOnce bool
      18 tty bool
    `,
    PodSecurityContext: `
      1 seLinuxOptions *SELinuxOptions
      8 windowsOptions *WindowsSecurityContextOptions
      2 runAsUser *int64
      6 runAsGroup *int64
      3 runAsNonRoot *bool
      4 supplementalGroups []int64
      12 supplementalGroupsPolicy *string
      5 fsGroup *int64
      7 sysctls []Sysctl
      9 fsGroupChangePolicy *string
      10 seccompProfile *SeccompProfile
      11 appArmorProfile *AppArmorProfile
      13 seLinuxChangePolicy *string
    `,
    Sysctl: `
      1 name string always
      2 value string always
    `,
    Affinity: `
      1 nodeAffinity *NodeAffinity
      2 podAffinity *PodAffinity
      3 podAntiAffinity *PodAntiAffinity
    `,
    NodeAffinity: `
      1 requiredDuringSchedulingIgnoredDuringExecution *NodeSelector
      2 preferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm
    `,
    NodeSelector: `
      1 nodeSelectorTerms []NodeSelectorTerm always
    `,
    NodeSelectorTerm: `
      1 matchExpressions []NodeSelectorRequirement
      2 matchFields []NodeSelectorRequirement
    `,
    NodeSelectorRequirement: `
      1 key string always
      2 operator string always
      3 values []string
    `,
    PreferredSchedulingTerm: `
      1 weight int32 always
      2 preference NodeSelectorTerm always
    `,
    PodAffinity: `
      1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm
      2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
    `,
    PodAffinityTerm: `
      1 labelSelector *meta.LabelSelector
      2 namespaces []string
      3 topologyKey string always
      4 namespaceSelector *meta.LabelSelector
      5 matchLabelKeys []string
      6 mismatchLabelKeys []string
    `,
    WeightedPodAffinityTerm: `
      1 weight int32 always
      2 podAffinityTerm PodAffinityTerm always
    `,
    PodAntiAffinity: `
      1 requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm
      2 preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
    `,
    Toleration: `
      1 key string
      2 operator string
      3 value string
      4 effect string
      5 tolerationSeconds *int64
    `,
    HostAlias: `
      1 ip string always
      2 hostnames []string
    `,
    PodDNSConfig: `
      1 nameservers []string
      2 searches []string
      3 options []PodDNSConfigOption
    `,
    PodDNSConfigOption: `
      1 name string
      2 value *string
    `,
    PodReadinessGate: `
      1 conditionType string always
    `,
    TopologySpreadConstraint: `
      1 maxSkew int32 always
      2 topologyKey string always
      3 whenUnsatisfiable string always
      4 labelSelector *meta.LabelSelector
      5 minDomains *int32
      6 nodeAffinityPolicy *string
      7 nodeTaintsPolicy *string
      8 matchLabelKeys []string
    `,
    PodOS: `
      1 name string always
    `,
    PodSchedulingGate: `
      1 name string always
    `,
    PodResourceClaim: `
      1 name string always
      3 resourceClaimName *string
      4 resourceClaimTemplateName *string
    `,
    PodStatus: `
      17 observedGeneration int64
      1 phase string
      2 conditions []PodCondition
      3 message string
      4 reason string
      11 nominatedNodeName string
      5 hostIP string
      16 hostIPs []HostIP
      6 podIP string
      12 podIPs []PodIP
      7 startTime *Time
      10 initContainerStatuses []ContainerStatus
      8 containerStatuses []ContainerStatus
      9 qosClass string
      13 ephemeralContainerStatuses []ContainerStatus
      14 resize string
      15 resourceClaimStatuses []PodResourceClaimStatus
    `,
    PodCondition: `
      1 type string always
      7 observedGeneration int64
      2 status string always
      3 lastProbeTime Time
      4 lastTransitionTime Time
      5 reason string
      6 message string
    `,
    HostIP: `
      1 ip string always
    `,
    PodIP: `
      1 ip string always
    `,
    ContainerStatus: `
      1 name string always
      2 state ContainerState
      3 lastState ContainerState
      4 ready bool always
      5 restartCount int32 always
      6 image string always
      7 imageID string always
      8 containerID string
      9 started *bool
      10 allocatedResources map<string,Quantity>
      11 resources *ResourceRequirements
      12 volumeMounts []VolumeMountStatus
      13 user *ContainerUser
      14 allocatedResourcesStatus []ResourceStatus
      15 stopSignal *string
    `,
    ContainerState: `
      1 waiting *ContainerStateWaiting
      2 running *ContainerStateRunning
      3 terminated *ContainerStateTerminated
    `,
    ContainerStateWaiting: `
      1 reason string
      2 message string
    `,
    ContainerStateRunning: `
      1 startedAt Time
    `,
    ContainerStateTerminated: `
      1 exitCode int32 always
      2 signal int32
      3 reason string
      4 message string
      5 startedAt Time
      6 finishedAt Time
      7 containerID string
    `,
    VolumeMountStatus: `
      1 name string always
      2 mountPath string always
      3 readOnly bool
      4 recursiveReadOnly *string
    `,
    ContainerUser: `
      1 linux *LinuxContainerUser
    `,
    LinuxContainerUser: `
      1 uid int64 always
      2 gid int64 always
      3 supplementalGroups []int64
    `,
    ResourceStatus: `
      1 name string always
      2 resources []ResourceHealth
    `,
    ResourceHealth: `
      1 resourceID string always
      2 health string
    `,
    PodResourceClaimStatus: `
      1 name string always
      2 resourceClaimName *string
    `,
    Service: `
      1 metadata meta.ObjectMeta
      2 spec ServiceSpec
      3 status ServiceStatus
    `,
    ServiceSpec: `
      1 ports []ServicePort
      2 selector map<string,string>
      3 clusterIP string
      18 clusterIPs []string
      4 type string
      5 externalIPs []string
      7 sessionAffinity string
      8 loadBalancerIP string
      9 loadBalancerSourceRanges []string
      10 externalName string
      11 externalTrafficPolicy string
      12 healthCheckNodePort int32
      13 publishNotReadyAddresses bool
      14 sessionAffinityConfig *SessionAffinityConfig
      19 ipFamilies []string
      17 ipFamilyPolicy *string
      20 allocateLoadBalancerNodePorts *bool
      21 loadBalancerClass *string
      22 internalTrafficPolicy *string
      23 trafficDistribution *string
    `,
    ServicePort: `
      1 name string
      2 protocol string
      6 appProtocol *string
      3 port int32 always
      4 targetPort IntOrString
      5 nodePort int32
    `,
    SessionAffinityConfig: `
      1 clientIP *ClientIPConfig
    `,
    ClientIPConfig: `
      1 timeoutSeconds *int32
    `,
    ServiceStatus: `
      1 loadBalancer LoadBalancerStatus
      2 conditions []meta.Condition
    `,
    LoadBalancerStatus: `
      1 ingress []LoadBalancerIngress
    `,
    LoadBalancerIngress: `
      1 ip string
      2 hostname string
      3 ipMode *string
      4 ports []PortStatus
    `,
    PortStatus: `
      1 port int32 always
      2 protocol string always
      3 error *string
    `,
    Endpoints: `
      1 metadata meta.ObjectMeta
      2 subsets []EndpointSubset
    `,
    EndpointSubset: `
      1 addresses []EndpointAddress
      2 notReadyAddresses []EndpointAddress
      3 ports []EndpointPort
    `,
    EndpointAddress: `
      1 ip string always
      3 hostname string
      4 nodeName *string
      2 targetRef *ObjectReference
    `,
    ObjectReference: `
      1 kind string
      2 namespace string
      3 name string
      4 uid string
      5 apiVersion string
      6 resourceVersion string
      7 fieldPath string
    `,
    EndpointPort: `
      1 name string
      2 port int32 always
      3 protocol string
      4 appProtocol *string
    `,
    ConfigMap: `
      1 metadata meta.ObjectMeta
      4 immutable *bool
      2 data map<string,string>
      3 binaryData map<string,bytes>
    `,
    Secret: `
      1 metadata meta.ObjectMeta
      5 immutable *bool
      2 data map<string,bytes>
      4 stringData map<string,string>
      3 type string
    `,
    ServiceAccount: `
      1 metadata meta.ObjectMeta
      2 secrets []ObjectReference
      3 imagePullSecrets []LocalObjectReference
      4 automountServiceAccountToken *bool
    `,
    Event: `
      1 metadata meta.ObjectMeta always
      2 involvedObject ObjectReference always
      3 reason string
      4 message string
      5 source EventSource
      6 firstTimestamp Time
      7 lastTimestamp Time
      8 count int32
      9 type string
      10 eventTime MicroTime
      11 series *EventSeries
      12 action string
      13 related *ObjectReference
      14 reportingComponent string always
      15 reportingInstance string always
    `,
    EventSource: `
      1 component string
      2 host string
    `,
    EventSeries: `
      1 count int32
      2 lastObservedTime MicroTime
    `,
    PersistentVolume: `
      1 metadata meta.ObjectMeta
      2 spec PersistentVolumeSpec
      3 status PersistentVolumeStatus
    `,
    PersistentVolumeSpec: `
      1 capacity map<string,Quantity>
      2 persistentVolumeSource PersistentVolumeSource inline
      3 accessModes []string
      4 claimRef *ObjectReference
      5 persistentVolumeReclaimPolicy string
      6 storageClassName string
      7 mountOptions []string
      8 volumeMode *string
      9 nodeAffinity *VolumeNodeAffinity
      10 volumeAttributesClassName *string
    `,
    PersistentVolumeSource: `
      1 gcePersistentDisk *GCEPersistentDiskVolumeSource
      2 awsElasticBlockStore *AWSElasticBlockStoreVolumeSource
      3 hostPath *HostPathVolumeSource
      4 glusterfs *GlusterfsPersistentVolumeSource
      5 nfs *NFSVolumeSource
      6 rbd *RBDPersistentVolumeSource
      7 iscsi *ISCSIPersistentVolumeSource
      8 cinder *CinderPersistentVolumeSource
      9 cephfs *CephFSPersistentVolumeSource
      10 fc *FCVolumeSource
      11 flocker *FlockerVolumeSource
      12 flexVolume *FlexPersistentVolumeSource
      13 azureFile *AzureFilePersistentVolumeSource
      14 vsphereVolume *VsphereVirtualDiskVolumeSource
      15 quobyte *QuobyteVolumeSource
      16 azureDisk *AzureDiskVolumeSource
      17 photonPersistentDisk *PhotonPersistentDiskVolumeSource
      18 portworxVolume *PortworxVolumeSource
      19 scaleIO *ScaleIOPersistentVolumeSource
      20 local *LocalVolumeSource
      21 storageos *StorageOSPersistentVolumeSource
      22 csi *CSIPersistentVolumeSource
    `,
    GlusterfsPersistentVolumeSource: `
      1 endpoints string always
      2 path string always
      3 readOnly bool
      4 endpointsNamespace *string
    `,
    RBDPersistentVolumeSource: `
      1 monitors []string always
      2 image string always
      3 fsType string
      4 pool string
      5 user string
      6 keyring string
      7 secretRef *SecretReference
      8 readOnly bool
    `,
    SecretReference: `
      1 name string
      2 namespace string
    `,
    ISCSIPersistentVolumeSource: `
      1 targetPortal string always
      2 iqn string always
      3 lun int32 always
      4 iscsiInterface string
      5 fsType string
      6 readOnly bool
      7 portals []string
      8 chapAuthDiscovery bool
      11 chapAuthSession bool
      10 secretRef *SecretReference
      12 initiatorName *string
    `,
    CinderPersistentVolumeSource: `
      1 volumeID string always
      2 fsType string
      3 readOnly bool
      4 secretRef *SecretReference
    `,
    CephFSPersistentVolumeSource: `
      1 monitors []string always
      2 path string
      3 user string
      4 secretFile string
      5 secretRef *SecretReference
      6 readOnly bool
    `,
    FlexPersistentVolumeSource: `
      1 driver string always
      2 fsType string
      3 secretRef *SecretReference
      4 readOnly bool
      5 options map<string,string>
    `,
    AzureFilePersistentVolumeSource: `
      1 secretName string always
      2 shareName string always
      3 readOnly bool
      4 secretNamespace *string always
    `,
    ScaleIOPersistentVolumeSource: `
      1 gateway string always
      2 system string always
      3 secretRef *SecretReference always
      4 sslEnabled bool
      5 protectionDomain string
      6 storagePool string
      7 storageMode string
      8 volumeName string
      9 fsType string
      10 readOnly bool
    `,
    LocalVolumeSource: `
      1 path string always
      2 fsType *string
    `,
    StorageOSPersistentVolumeSource: `
      1 volumeName string
      2 volumeNamespace string
      3 fsType string
      4 readOnly bool
      5 secretRef *ObjectReference
    `,
    CSIPersistentVolumeSource: `
      1 driver string always
      2 volumeHandle string always
      3 readOnly bool
      4 fsType string
      5 volumeAttributes map<string,string>
      6 controllerPublishSecretRef *SecretReference
      7 nodeStageSecretRef *SecretReference
      8 nodePublishSecretRef *SecretReference
      9 controllerExpandSecretRef *SecretReference
      10 nodeExpandSecretRef *SecretReference
    `,
    VolumeNodeAffinity: `
      1 required *NodeSelector
    `,
    PersistentVolumeStatus: `
      1 phase string
      2 message string
      3 reason string
      4 lastPhaseTransitionTime *Time
    `,
    PersistentVolumeClaim: `
      1 metadata meta.ObjectMeta
      2 spec PersistentVolumeClaimSpec
      3 status PersistentVolumeClaimStatus
    `,
    PersistentVolumeClaimStatus: `
      1 phase string
      2 accessModes []string
      3 capacity map<string,Quantity>
      4 conditions []PersistentVolumeClaimCondition
      5 allocatedResources map<string,Quantity>
      7 allocatedResourceStatuses map<string,string>
      8 currentVolumeAttributesClassName *string
      9 modifyVolumeStatus *ModifyVolumeStatus
    `,
    PersistentVolumeClaimCondition: `
      1 type string always
      2 status string always
      3 lastProbeTime Time
      4 lastTransitionTime Time
      5 reason string
      6 message string
    `,
    ModifyVolumeStatus: `
      1 targetVolumeAttributesClassName string
      2 status string always
    `,
    ReplicationController: `
      1 metadata meta.ObjectMeta
      2 spec ReplicationControllerSpec
      3 status ReplicationControllerStatus
    `,
    ReplicationControllerSpec: `
      1 replicas *int32
      4 minReadySeconds int32
      2 selector map<string,string>
      3 template *PodTemplateSpec
    `,
    PodTemplateSpec: `
      1 metadata meta.ObjectMeta
      2 spec PodSpec
    `,
    ReplicationControllerStatus: `
      1 replicas int32 always
      2 fullyLabeledReplicas int32
      4 readyReplicas int32
      5 availableReplicas int32
      3 observedGeneration int64
      6 conditions []ReplicationControllerCondition
    `,
    ReplicationControllerCondition: `
      1 type string always
      2 status string always
      3 lastTransitionTime Time
      4 reason string
      5 message string
    `,
    LimitRange: `
      1 metadata meta.ObjectMeta
      2 spec LimitRangeSpec
    `,
    LimitRangeSpec: `
      1 limits []LimitRangeItem always
    `,
    LimitRangeItem: `
      1 type string always
      2 max map<string,Quantity>
      3 min map<string,Quantity>
      4 default map<string,Quantity>
      5 defaultRequest map<string,Quantity>
      6 maxLimitRequestRatio map<string,Quantity>
    `,
    ResourceQuota: `
      1 metadata meta.ObjectMeta
      2 spec ResourceQuotaSpec
      3 status ResourceQuotaStatus
    `,
    ResourceQuotaSpec: `
      1 hard map<string,Quantity>
      2 scopes []string
      3 scopeSelector *ScopeSelector
    `,
    ScopeSelector: `
      1 matchExpressions []ScopedResourceSelectorRequirement
    `,
    ScopedResourceSelectorRequirement: `
      1 scopeName string always
      2 operator string always
      3 values []string
    `,
    ResourceQuotaStatus: `
      1 hard map<string,Quantity>
      2 used map<string,Quantity>
    `,
    Binding: `
      1 metadata meta.ObjectMeta
      2 target ObjectReference always
    `,
    TopologySelectorTerm: `
      1 matchLabelExpressions []TopologySelectorLabelRequirement
    `,
    TopologySelectorLabelRequirement: `
      1 key string always
      2 values []string always
    `,
  },
};
