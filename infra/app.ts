#!/usr/bin/env node
// The CDK app's entry (cdk.json: "app"). See README "Deploying with CDK".
import { createApp } from './create-app';

createApp().app.synth();
