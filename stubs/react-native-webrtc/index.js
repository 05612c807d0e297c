// Stand-in for react-native-webrtc (see docs/INSTALL.md, "WebRTC without React Native"):
// @libp2p/webrtc imports it only in React Native bundles (its package.json "react-native" field);
// browsers use the built-in WebRTC and Node uses node-datachannel. Importing it anywhere else is a
// mistake, so it says so.
throw new Error('react-native-webrtc is an empty stand-in in tabchain: React Native is not a target');
