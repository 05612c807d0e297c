/**
 * Browser entry: mounts the UI. Later issues start the FullNode here and install window.tabchain.
 */
import { mount } from 'svelte';
import App from './ui/App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('tabchain: #app element missing from index.html');
mount(App, { target });
