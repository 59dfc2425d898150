import { render } from 'preact';
import './styles.css';
import { Api } from './api';
import { applyTheme, loadSession, loadTheme } from './session';
import { App } from './App';

const theme = loadTheme();
applyTheme(theme);
const session = loadSession();
render(<App api={session ? new Api(session) : null} />, document.getElementById('root')!);
